/** @module region — the tenant's shared-memory region: a 0600 file under /dev/shm, mapped once per process with mmap through bun:ffi. */
import { toArrayBuffer, type Pointer } from "bun:ffi";
import * as fs from "node:fs";
import { errno, mmap, MMAP, munmap } from "../../sys/libc.ts";
import { ARG_COUNT, ENTRY } from "../protocol/entry.ts";
import {
  computeRegionLayout, initialHeader, QUEUE_HEADER, REGION_HEADER, REGION_MAGIC, REGION_STATUS, RegionLayoutError,
  SLOT, type RegionLayout, type RegionParams,
} from "../protocol/region-layout.ts";
import { PROTOCOL_VERSION } from "../protocol/operations.ts";
import { RegionFormatError, RequestRangeError, SystemCallError } from "./errors.ts";
import { futexWake, WAKE_ALL } from "./futex.ts";

/** The decoded region header. */
export type RegionHeader = ReturnType<typeof REGION_HEADER.read>;

const STATUS_WORD = REGION_HEADER.offsets.status >> 2;
const MUTATIONS_WORD = REGION_HEADER.offsets.mutations >> 2;

/**
 * A mapped region. A mapping is unmapped only by {@link Region.unmap} (a live `toArrayBuffer` view over an unmapped
 * range crashes the process), so a Region normally lives as long as its process; create few, reuse them.
 */
export class Region {
  /** Whole mapping as bytes. */
  readonly bytes: Uint8Array;
  /** Whole mapping as a little-endian DataView. */
  readonly view: DataView;
  /** Whole mapping as 32-bit words, for Atomics. */
  readonly words: Int32Array;

  private constructor(
    /** Address of the mapping in this process (pass it to a Worker for {@link Region.attach}). */
    readonly address: number,
    /** Every offset of this region. */
    readonly layout: RegionLayout,
    /** The backing file, when known (undefined after {@link Region.attach}). */
    readonly path: string | undefined,
  ) {
    const buffer = toArrayBuffer(address as Pointer, 0, layout.size);
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(buffer);
    this.words = new Int32Array(buffer);
  }

  /**
   * Create a new region file at `path` (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600: it must not exist), size it
   * for `params`, map it and mark it READY. Throws {@link SystemCallError} (EEXIST when the file exists),
   * or RegionLayoutError for params out of range.
   */
  static create(path: string, params: RegionParams): Region {
    const layout = computeRegionLayout(params);
    const c = fs.constants;
    const fd = openOrThrow(path, c.O_RDWR | c.O_CREAT | c.O_EXCL | c.O_NOFOLLOW, 0o600);
    try {
      fs.fchmodSync(fd, 0o600);
      fs.ftruncateSync(fd, layout.size);
      const region = new Region(mapOrThrow(fd, layout.size, path), layout, path);
      REGION_HEADER.write(region.view, 0, initialHeader(layout));
      Atomics.store(region.words, STATUS_WORD, REGION_STATUS.READY);
      return region;
    } catch (error) {
      fs.rmSync(path, { force: true });
      throw error;
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Map an existing region file. Throws {@link SystemCallError} when it cannot be opened or mapped and
   * {@link RegionFormatError} when its header does not describe a READY region of this protocol version
   * that fits the file.
   */
  static open(path: string): Region {
    const c = fs.constants;
    const fd = openOrThrow(path, c.O_RDWR | c.O_NOFOLLOW, 0);
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw new RegionFormatError(path, "file", "is not a regular file");
      if (stat.size < SLOT.header) throw new RegionFormatError(path, "size", `${stat.size} is smaller than the header`);
      const address = mapOrThrow(fd, stat.size, path);
      return new Region(address, checkHeader(path, address, stat.size), path);
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Use a region already mapped in this process at `address` (how a Worker reaches the mapping its
   * parent thread made). Throws {@link RegionFormatError} when the header there is not valid.
   */
  static attach(address: number): Region {
    const headerView = new DataView(toArrayBuffer(address as Pointer, 0, SLOT.header));
    const size = REGION_HEADER.read(headerView, 0).size;
    return new Region(address, checkHeader(`mapping 0x${address.toString(16)}`, address, size), undefined);
  }

  /** The header as it is now. */
  header(): RegionHeader {
    return REGION_HEADER.read(this.view, 0);
  }

  /** The region's status word (REGION_STATUS). */
  status(): number {
    return Atomics.load(this.words, STATUS_WORD);
  }

  /** Record the serving process and bump the service epoch (called by the service when it starts serving). */
  claimService(pid: number): number {
    this.view.setInt32(REGION_HEADER.offsets.service_pid, pid, true);
    return Atomics.add(this.words, REGION_HEADER.offsets.epoch >> 2, 1) + 1;
  }

  /**
   * Bump the tenant's mutation generation (after a request that may have changed a file or a name): every client's
   * cached attributes taken before it stop being valid (the preload library's attribute cache).
   */
  bumpMutations(): void {
    Atomics.add(this.words, MUTATIONS_WORD, 1);
  }

  /** The tenant's mutation generation (see {@link bumpMutations}). */
  mutations(): number {
    return Atomics.load(this.words, MUTATIONS_WORD) >>> 0;
  }

  /**
   * Mark the region CLOSED and wake every sleeper (queue waiters and reply waiters), which then fail
   * with RegionClosedError instead of waiting for a service that is gone.
   */
  close(): void {
    Atomics.store(this.words, STATUS_WORD, REGION_STATUS.CLOSED);
    futexWake(this.address + (STATUS_WORD << 2), WAKE_ALL);
    const { queueCount, queueCapacity } = this.layout.params;
    for (let q = 0; q < queueCount; q++) {
      const queue = this.layout.queueOffset(q);
      futexWake(this.address + queue + QUEUE_HEADER.offsets.post_seq, WAKE_ALL);
      futexWake(this.address + queue + QUEUE_HEADER.offsets.free_seq, WAKE_ALL);
      for (let slot = 0; slot < queueCapacity; slot++) {
        futexWake(this.address + this.layout.entryOffset(q, slot) + ENTRY.offsets.state, WAKE_ALL);
      }
    }
  }

  /**
   * Mark the region file at `path`, left by a predecessor that did not close it (killed), CLOSED, then remove it: its
   * clients see at their next call, or their next look at the header (the preload library's attribute cache), that
   * the service they mapped is gone, without waiting to notice the dead process. A file that is not a region is only
   * removed. Throws what `fs.rmSync` throws when it cannot be removed.
   */
  static retire(path: string): void {
    const c = fs.constants;
    let fd = -1;
    try {
      fd = fs.openSync(path, c.O_RDWR | c.O_NOFOLLOW);
      const magic = Buffer.alloc(4);
      if (fs.fstatSync(fd).isFile() && fs.readSync(fd, magic, 0, 4, 0) === 4 && magic.readUInt32LE(0) === REGION_MAGIC) {
        const closed = Buffer.alloc(4);
        closed.writeUInt32LE(REGION_STATUS.CLOSED, 0);
        fs.writeSync(fd, closed, 0, 4, REGION_HEADER.offsets.status);
      }
    } catch {
      // Not ours to mark (gone meanwhile, not a file): removing it is all that matters.
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
    fs.rmSync(path, { force: true });
  }

  /**
   * Unmaps this process's mapping of a region it opened with {@link open} and no longer uses (a channel host's map of a
   * restarted router's old region: its pages would otherwise stay pinned). The caller guarantees that no view of it is
   * read again, in any thread: the process would die with SIGSEGV.
   */
  unmap(): void {
    munmap(this.address, this.layout.size);
  }

  /** Remove the backing file (the mapping stays valid in every process that has it). */
  unlink(): void {
    if (this.path !== undefined) fs.rmSync(this.path, { force: true });
  }

  /** Request buffer `index` as bytes. Throws {@link RequestRangeError} for an index out of range. */
  buffer(index: number): Uint8Array {
    const { bufferCount, bufferSize } = this.layout.params;
    if (!Number.isInteger(index) || index < 0 || index >= bufferCount) throw new RequestRangeError("buffer", index, `0..${bufferCount - 1}`);
    const offset = this.layout.bufferOffset(index);
    return this.bytes.subarray(offset, offset + bufferSize);
  }
}

function openOrThrow(path: string, flags: number, mode: number): number {
  try {
    return fs.openSync(path, flags, mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).errno;
    throw new SystemCallError("open", Math.abs(code ?? 5), path);
  }
}

function mapOrThrow(fd: number, size: number, path: string): number {
  const address = mmap(0, size, MMAP.PROT_READ | MMAP.PROT_WRITE, MMAP.MAP_SHARED, fd, 0);
  if (address === -1) throw new SystemCallError("mmap", errno(), path);
  return address;
}

function checkHeader(where: string, address: number, mappedSize: number): RegionLayout {
  const header = REGION_HEADER.read(new DataView(toArrayBuffer(address as Pointer, 0, SLOT.header)), 0);
  const fail = (field: string, problem: string): never => {
    throw new RegionFormatError(where, field, problem);
  };
  if (header.magic !== REGION_MAGIC) fail("magic", `0x${header.magic.toString(16)} is not 0x${REGION_MAGIC.toString(16)}`);
  if (header.version !== PROTOCOL_VERSION) fail("version", `${header.version} is not ${PROTOCOL_VERSION}`);
  if (header.status !== REGION_STATUS.READY) fail("status", `${header.status} is not READY (${REGION_STATUS.READY})`);
  if (header.entry_slot !== SLOT.entry) fail("entry_slot", `${header.entry_slot} is not ${SLOT.entry}`);
  if (header.arg_count !== ARG_COUNT) fail("arg_count", `${header.arg_count} is not ${ARG_COUNT}`);
  const layout = layoutOf(header, fail);
  const expect = (field: "size" | "queues_offset" | "entries_offset" | "buffers_offset", want: number): void => {
    if (header[field] !== want) fail(field, `${header[field]} is not the ${want} its params need`);
  };
  expect("size", layout.size);
  expect("queues_offset", layout.queues.offset);
  expect("entries_offset", layout.entries.offset);
  expect("buffers_offset", layout.buffers.offset);
  if (layout.size > mappedSize) fail("size", `${layout.size} is larger than the ${mappedSize} bytes mapped`);
  return layout;
}

function layoutOf(header: RegionHeader, fail: (field: string, problem: string) => never): RegionLayout {
  try {
    return computeRegionLayout({
      queueCount: header.queue_count,
      queueCapacity: header.queue_capacity,
      bufferCount: header.buffer_count,
      bufferSize: header.buffer_size,
    });
  } catch (error) {
    if (error instanceof RegionLayoutError) return fail(error.field, error.problem);
    throw error;
  }
}
