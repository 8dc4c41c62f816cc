/**
 * @module raw-ring — writes queue entries by hand, bypassing every client-side check of RequestQueue, the way a buggy or
 * hostile client could: any opcode, client id, buffer index, window and arguments, and garbage state words.
 */
import { ENTRY, ENTRY_STATE } from "../../../../kernel/ipc/protocol/entry.ts";
import { QUEUE_HEADER } from "../../../../kernel/ipc/protocol/region-layout.ts";
import { futexWake, RequestQueue, type Region, type Reply } from "../../../../kernel/ipc/ring/index.ts";

/** Every field of a request descriptor, unchecked: u32 fields wrap, args are any i64 (number or bigint). */
export interface RawRequest {
  readonly opcode: number;
  readonly client: number;
  readonly buffer: number;
  readonly offset: number;
  readonly length: number;
  readonly args?: readonly (number | bigint)[];
  readonly requestId?: number;
}

const E = ENTRY.offsets;
const Q = QUEUE_HEADER.offsets;

/** A hand-writing producer on queue `queue` of `region`, plus a RequestQueue handle to wait for replies. */
export class RawRing {
  readonly queue: RequestQueue;

  constructor(readonly region: Region, readonly queueIndex = 0) {
    this.queue = new RequestQueue(region, queueIndex);
  }

  /** Word index of the state word of `slot`. */
  stateWord(slot: number): number {
    return (this.queue.entryOffset(slot) + E.state) >> 2;
  }

  /** Claims a free entry (EMPTY → WRITING); returns its slot, or -1 when none is free right now. */
  claim(): number {
    const words = this.region.words;
    for (let slot = 0; slot < this.queue.capacity; slot++) {
      if (Atomics.compareExchange(words, this.stateWord(slot), ENTRY_STATE.EMPTY, ENTRY_STATE.WRITING) === ENTRY_STATE.EMPTY) return slot;
    }
    return -1;
  }

  /** Writes `request` into claimed `slot` exactly as given (no range checks at all). */
  write(slot: number, request: RawRequest): void {
    const view = this.region.view;
    const base = this.queue.entryOffset(slot);
    view.setUint32(base + E.opcode, request.opcode >>> 0, true);
    view.setUint32(base + E.client, request.client >>> 0, true);
    view.setBigUint64(base + E.request_id, BigInt(request.requestId ?? 0), true);
    view.setUint32(base + E.buffer, request.buffer >>> 0, true);
    view.setUint32(base + E.offset, request.offset >>> 0, true);
    view.setUint32(base + E.length, request.length >>> 0, true);
    view.setUint32(base + E.reply_length, 0, true);
    for (let i = 0; i < 6; i++) view.setBigInt64(base + E.args + 8 * i, BigInt.asIntN(64, BigInt(request.args?.[i] ?? 0)), true);
    view.setBigInt64(base + E.result, 0n, true);
  }

  /** Publishes claimed `slot` (WRITING → VALID) the way RequestQueue does, waking a sleeping consumer. */
  publish(slot: number): void {
    const words = this.region.words;
    const queue = this.region.layout.queueOffset(this.queueIndex);
    Atomics.store(words, (this.queue.entryOffset(slot) + E.waiters) >> 2, 0);
    Atomics.store(words, this.stateWord(slot), ENTRY_STATE.VALID);
    Atomics.add(words, (queue + Q.pending) >> 2, 1);
    Atomics.add(words, (queue + Q.post_seq) >> 2, 1);
    if (Atomics.load(words, (queue + Q.consumer_sleepers) >> 2) !== 0) futexWake(this.region.address + queue + Q.post_seq, 1);
  }

  /** Claims an entry (waiting up to `timeoutMs` for one), writes `request` unchecked and publishes it; returns the slot. */
  submit(request: RawRequest, timeoutMs = 30_000): number {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const slot = this.claim();
      if (slot >= 0) {
        this.write(slot, request);
        this.publish(slot);
        return slot;
      }
      if (performance.now() > deadline) throw new Error(`no free entry in queue ${this.queueIndex} within ${timeoutMs} ms`);
      Bun.sleepSync(1);
    }
  }

  /** Submits `request` unchecked and waits for its reply (throws after `timeoutMs`: a hang guard). */
  call(request: RawRequest, timeoutMs = 30_000): Reply {
    return this.queue.waitReply(this.submit(request, timeoutMs), { timeoutMs });
  }

  /** Writes `value` into the state word of `slot` if that entry is EMPTY; returns whether it did. */
  poisonEmpty(slot: number, value: number): boolean {
    return Atomics.compareExchange(this.region.words, this.stateWord(slot), ENTRY_STATE.EMPTY, value | 0) === ENTRY_STATE.EMPTY;
  }

  /** The state word of every slot. */
  states(): number[] {
    return Array.from({ length: this.queue.capacity }, (_, slot) => Atomics.load(this.region.words, this.stateWord(slot)));
  }
}
