/** @module region-layout — the shared-memory region as data: header, queue headers, entries, request buffers, with computed offsets. */
import { ARG_COUNT, ENTRY } from "./entry.ts";
import { PROTOCOL_VERSION } from "./operations.ts";
import { defineStruct, type StructLayout } from "./struct.ts";

/** "DNUS" read as a little-endian u32: the first four bytes of every region. */
export const REGION_MAGIC = 0x53554e44;

/** Region lifecycle, in the header's `status` word. */
export const REGION_STATUS = { INITIALIZING: 0, READY: 1, CLOSED: 2 } as const;

/** The region header, at offset 0. Everything a peer needs to find the rest. */
export const REGION_HEADER = defineStruct("danaus_region_header", "region header at offset 0", [
  { name: "magic", type: "u32", offset: 0, doc: "DANAUS_REGION_MAGIC" },
  { name: "version", type: "u32", offset: 4, doc: "DANAUS_PROTOCOL_VERSION" },
  { name: "status", type: "u32", offset: 8, doc: "DANAUS_REGION_* status" },
  { name: "epoch", type: "u32", offset: 12, doc: "service generation, bumped by each service start" },
  { name: "size", type: "u64", offset: 16, doc: "total region bytes" },
  { name: "queue_count", type: "u32", offset: 24 },
  { name: "queue_capacity", type: "u32", offset: 28, doc: "entries per queue" },
  { name: "entry_slot", type: "u32", offset: 32, doc: "bytes per entry slot" },
  { name: "arg_count", type: "u32", offset: 36, doc: "DANAUS_ARG_COUNT" },
  { name: "buffer_count", type: "u32", offset: 40 },
  { name: "buffer_size", type: "u32", offset: 44, doc: "bytes per request buffer" },
  { name: "queues_offset", type: "u64", offset: 48 },
  { name: "entries_offset", type: "u64", offset: 56 },
  { name: "buffers_offset", type: "u64", offset: 64 },
  { name: "service_pid", type: "i32", offset: 72, doc: "pid of the serving process, 0 if none" },
  { name: "__reserved", type: "u32", offset: 76 },
  { name: "__pad0", type: "u32", offset: 80, count: 12 },
  {
    name: "mutations", type: "u32", offset: 128,
    doc: "tenant-wide mutation generation: bumped after every request that changes a file or a name, whoever sent it (its own cache line: writes bump it)",
  },
  { name: "__pad1", type: "u32", offset: 132, count: 15 },
]);

/**
 * One queue's shared counters. Consumer-side words and producer-side words sit on separate
 * cache lines so producers and consumers do not bounce one line between cores.
 */
export const QUEUE_HEADER = defineStruct("danaus_queue_header", "per-queue counters and futex words", [
  { name: "post_seq", type: "u32", offset: 0, doc: "bumped after each VALID; consumers sleep on it" },
  { name: "consumer_sleepers", type: "u32", offset: 4, doc: "consumers asleep on post_seq" },
  { name: "pending", type: "u32", offset: 8, doc: "posted and not yet taken" },
  { name: "take_hint", type: "u32", offset: 12, doc: "slot where consumers start looking" },
  { name: "__pad0", type: "u32", offset: 16, count: 12 },
  { name: "free_seq", type: "u32", offset: 64, doc: "bumped each time an entry is freed; full producers sleep on it" },
  { name: "producer_sleepers", type: "u32", offset: 68, doc: "producers asleep on free_seq" },
  { name: "submit_hint", type: "u32", offset: 72, doc: "slot where producers start looking" },
  { name: "__pad1", type: "u32", offset: 76, count: 13 },
]);

/** Sizes of a region, chosen by the ipc-router when it creates one. */
export interface RegionParams {
  /** Request queues, one per core group (1..256). */
  readonly queueCount: number;
  /** Entries per queue (1..65536); a full queue makes producers wait. */
  readonly queueCapacity: number;
  /** Request buffers, one per client thread (1..65536). */
  readonly bufferCount: number;
  /** Bytes per request buffer: a multiple of 4096, at most 1 GiB. */
  readonly bufferSize: number;
}

/** One section of the region: `count` slots of `slot` bytes, starting at an `align`-aligned offset. */
export interface SectionSpec {
  readonly name: "header" | "queues" | "entries" | "buffers";
  /** The struct stored in each slot; buffers hold raw bytes. */
  readonly struct?: StructLayout;
  readonly align: number;
  slot(params: RegionParams): number;
  count(params: RegionParams): number;
}

/** Bytes per header slot, queue-header slot and entry slot (also in the C header). */
export const SLOT = { header: 256, queue: 128, entry: 128 } as const;

/** Alignment of request buffers: a page, so a buffer never shares a page with queue entries. */
export const BUFFER_ALIGN = 4096;

/** The region, in order. Offsets follow from this table and the params; see {@link computeRegionLayout}. */
export const REGION_SECTIONS: readonly SectionSpec[] = [
  { name: "header", struct: REGION_HEADER, align: 64, slot: () => SLOT.header, count: () => 1 },
  { name: "queues", struct: QUEUE_HEADER, align: 64, slot: () => SLOT.queue, count: (p) => p.queueCount },
  { name: "entries", struct: ENTRY, align: 64, slot: () => SLOT.entry, count: (p) => p.queueCount * p.queueCapacity },
  { name: "buffers", align: BUFFER_ALIGN, slot: (p) => p.bufferSize, count: (p) => p.bufferCount },
];

/** A placed section. */
export interface Section {
  readonly offset: number;
  readonly slot: number;
  readonly count: number;
  readonly size: number;
}

/** Every offset of a region of given params. */
export interface RegionLayout {
  readonly params: RegionParams;
  readonly header: Section;
  readonly queues: Section;
  readonly entries: Section;
  readonly buffers: Section;
  /** Total bytes, a multiple of the page size. */
  readonly size: number;
  /** Byte offset of queue `queue`'s header. */
  queueOffset(queue: number): number;
  /** Byte offset of entry `slot` of queue `queue`. */
  entryOffset(queue: number, slot: number): number;
  /** Byte offset of request buffer `buffer`. */
  bufferOffset(buffer: number): number;
}

/** Params out of range, or a struct that does not fit its slot. */
export class RegionLayoutError extends RangeError {
  override readonly name = "RegionLayoutError";
  constructor(readonly field: string, readonly problem: string) {
    super(`region layout, ${field}: ${problem}`);
  }
}

/** Largest region we agree to lay out (64 GiB). */
export const MAX_REGION_SIZE = 64 * 2 ** 30;

const LIMITS: Readonly<Record<keyof RegionParams, readonly [number, number]>> = {
  queueCount: [1, 256],
  queueCapacity: [1, 65536],
  bufferCount: [1, 65536],
  bufferSize: [BUFFER_ALIGN, 2 ** 30],
};

function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

/**
 * Check the params (throws {@link RegionLayoutError} naming the bad one) and place every section.
 * The same params always give the same layout, so peers only share the params (in the header).
 */
export function computeRegionLayout(params: RegionParams): RegionLayout {
  for (const [key, [min, max]] of Object.entries(LIMITS) as [keyof RegionParams, readonly [number, number]][]) {
    const value = params[key];
    if (!Number.isInteger(value) || value < min || value > max) throw new RegionLayoutError(key, `${value} is not an integer in ${min}..${max}`);
  }
  if (params.bufferSize % BUFFER_ALIGN !== 0) throw new RegionLayoutError("bufferSize", `${params.bufferSize} is not a multiple of ${BUFFER_ALIGN}`);
  const placed: Record<string, Section> = {};
  let at = 0;
  for (const spec of REGION_SECTIONS) {
    const offset = alignUp(at, spec.align);
    const slot = spec.slot(params);
    const count = spec.count(params);
    placed[spec.name] = { offset, slot, count, size: slot * count };
    at = offset + slot * count;
  }
  const size = alignUp(at, BUFFER_ALIGN);
  if (size > MAX_REGION_SIZE) throw new RegionLayoutError("size", `${size} bytes exceeds ${MAX_REGION_SIZE}`);
  const header = placed.header!, queues = placed.queues!, entries = placed.entries!, buffers = placed.buffers!;
  const capacity = params.queueCapacity;
  return {
    params: { ...params },
    header, queues, entries, buffers, size,
    queueOffset: (queue) => queues.offset + queue * queues.slot,
    entryOffset: (queue, slot) => entries.offset + (queue * capacity + slot) * entries.slot,
    bufferOffset: (buffer) => buffers.offset + buffer * buffers.slot,
  };
}

/**
 * The start-up check: every struct fits its slot, every slot keeps the next one aligned, the header
 * slot holds the header. Throws {@link RegionLayoutError}. Runs at module load.
 */
export function checkRegionSlots(sections: readonly SectionSpec[] = REGION_SECTIONS): void {
  const sample: RegionParams = { queueCount: 1, queueCapacity: 1, bufferCount: 1, bufferSize: BUFFER_ALIGN };
  for (const spec of sections) {
    const slot = spec.slot(sample);
    if (spec.struct && spec.struct.size > slot) {
      throw new RegionLayoutError(spec.name, `struct ${spec.struct.name} is ${spec.struct.size} bytes, its slot only ${slot}`);
    }
    if (slot % spec.align !== 0) throw new RegionLayoutError(spec.name, `slot ${slot} is not a multiple of its alignment ${spec.align}`);
    if (spec.struct && spec.align % spec.struct.align !== 0) {
      throw new RegionLayoutError(spec.name, `alignment ${spec.align} does not satisfy struct ${spec.struct.name}'s ${spec.struct.align}`);
    }
  }
}

checkRegionSlots();

/** The header values of a freshly created region of `layout` (status INITIALIZING). */
export function initialHeader(layout: RegionLayout): ReturnType<typeof REGION_HEADER.read> {
  const p = layout.params;
  return {
    magic: REGION_MAGIC,
    version: PROTOCOL_VERSION,
    status: REGION_STATUS.INITIALIZING,
    epoch: 0,
    size: layout.size,
    queue_count: p.queueCount,
    queue_capacity: p.queueCapacity,
    entry_slot: SLOT.entry,
    arg_count: ARG_COUNT,
    buffer_count: p.bufferCount,
    buffer_size: p.bufferSize,
    queues_offset: layout.queues.offset,
    entries_offset: layout.entries.offset,
    buffers_offset: layout.buffers.offset,
    service_pid: 0,
    mutations: 0,
  };
}
