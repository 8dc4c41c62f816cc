/** @module queue — one fixed-size circular request queue in the region: multi-producer submit/waitReply, multi-consumer take/complete. */
import { ARG_COUNT, ENTRY, ENTRY_STATE, entryStateName, readReply, readRequest, writeReply, writeRequest, type RequestDescriptor } from "../protocol/entry.ts";
import { ERRNO } from "../protocol/errno.ts";
import { readInt64 } from "../protocol/scalar.ts";
import { QUEUE_HEADER, REGION_STATUS } from "../protocol/region-layout.ts";
import { RegionClosedError, RequestRangeError, SlotStateError, WaitTimeoutError } from "./errors.ts";
import { currentCpu } from "../../sys/libc.ts";
import { futexWake, WAKE_ALL } from "./futex.ts";
import type { Region } from "./region.ts";
import { SpinBudget, waitForChange, type WaitTarget } from "./spin-wait.ts";
import { validateReply, validateRequest, validateState } from "./validate.ts";

/** A reply as the producer receives it. */
export interface Reply {
  /** >= 0 on success, -errno on failure (-EIO when the service claimed more reply bytes than the window). */
  readonly result: number;
  /** Reply payload bytes at the start of the request window. */
  readonly replyLength: number;
  /** The request id this entry carried. */
  readonly requestId: number;
}

/** A request a consumer took off the queue. */
export interface TakenRequest {
  /** The slot to pass to {@link RequestQueue.complete}. */
  readonly slot: number;
  readonly request: RequestDescriptor;
  /**
   * 0 when the request is usable; otherwise the errno to answer with (`complete(slot, -status)`):
   * ENOSYS for an unknown opcode, EINVAL for a window outside the region. See validateRequest.
   */
  readonly status: 0 | typeof ERRNO.EINVAL | typeof ERRNO.ENOSYS;
}

/** Lowest spin budget of a producer's waits (≈ 1.5 µs of Atomics.load at ~6 ns each). */
const REPLY_SPIN_FLOOR = 256;
/** Lowest spin budget of a consumer waiting for requests (≈ 12 µs). */
const TAKE_SPIN_FLOOR = 2_000;

/** Spin budgets of one queue handle (iterations of Atomics.load before sleeping on the futex). */
export interface QueueOptions {
  /** Lowest spin budget of take() (default 2,000); 0 lets a consumer fall back to futex only. */
  readonly takeSpinFloor?: number;
  /** Cores the other side (the service threads of this queue) runs on: a short sleep on one of them does not grow the spin. */
  readonly peerCpus?: readonly number[];
  /** Starting spin budget of each kind of wait (default 2,000). */
  readonly spin?: number;
  /** Ceiling of the adaptive spin budget (default 20,000; 0 = always sleep at once). */
  readonly maxSpin?: number;
}

/** Limits of one wait. */
export interface WaitOptions {
  /** Give up after this many milliseconds (default: wait as long as the region is open). */
  readonly timeoutMs?: number;
}

/** This handle's counters (local to the thread that owns the handle, not shared). */
export class QueueStats {
  submitted = 0;
  /** Submissions that found the queue full and waited. */
  fullWaits = 0;
  taken = 0;
  completed = 0;
  /** futex waits entered (any kind). */
  sleeps = 0;
  /** futex waits ended by another thread's wake. */
  woken = 0;
  /** futex wake calls made (only when a sleeper was flagged). */
  wakes = 0;
  /** Entries with a garbage state word reset to EMPTY by a consumer. */
  repaired = 0;
  /** complete() calls that found the entry no longer SERVING (tampered with): reply dropped. */
  tampered = 0;
  /** Entries freed by reclaimClient. */
  reclaimed = 0;
}

const { EMPTY, WRITING, VALID, SERVING, DONE } = ENTRY_STATE;
/** Word distance from an entry's state word to its waiters word. */
const WAITERS = (ENTRY.offsets.waiters - ENTRY.offsets.state) >> 2;
const Q = QUEUE_HEADER.offsets;

/**
 * A handle on queue `index` of a region, used by one thread (the handle keeps that thread's spin
 * budgets and counters). Any number of handles, in any processes, may produce and consume on the
 * same queue at once: every entry changes hands by compare-and-exchange of its state word.
 *
 * A producer owns a slot from `submit` until `waitReply` returns; a thread must not hold more
 * submitted slots than the queue's capacity, or it waits forever for a slot only it can free.
 */
export class RequestQueue {
  /** Entries in this queue. */
  readonly capacity: number;
  readonly stats = new QueueStats();
  private readonly words: Int32Array;
  private readonly view: DataView;
  private readonly base: number;
  /** Byte offset of entry 0. */
  private readonly entry0: number;
  /** Word index of entry 0's state word. */
  private readonly state0: number;
  /** Bytes and words per entry slot. */
  private readonly entrySlot: number;
  private readonly wordStride: number;
  private readonly postSeq: number;
  private readonly consumerSleepers: number;
  private readonly pendingWord: number;
  private readonly takeHint: number;
  private readonly freeSeq: number;
  private readonly producerSleepers: number;
  private readonly submitHint: number;
  private readonly replySpin: SpinBudget;
  /** The reply wait of a producer beside its service: no spin (see {@link waitReply}). */
  private readonly noSpin = new SpinBudget(0, 0, 0);
  private readonly fullSpin: SpinBudget;
  private readonly takeSpin: SpinBudget;
  private readonly peerSameCore: (() => boolean) | undefined;
  private readonly checkOpen = (): void => {
    if (this.region.status() === REGION_STATUS.CLOSED) throw new RegionClosedError(`queue ${this.index}`);
  };

  /** Open a handle on queue `index` (0 ≤ index < queueCount, else RequestRangeError). */
  constructor(readonly region: Region, readonly index: number, options: QueueOptions = {}) {
    const { queueCount, queueCapacity } = region.layout.params;
    if (!Number.isInteger(index) || index < 0 || index >= queueCount) throw new RequestRangeError("queue", index, `0..${queueCount - 1}`);
    this.capacity = queueCapacity;
    this.words = region.words;
    this.view = region.view;
    this.base = region.address;
    this.entry0 = region.layout.entryOffset(index, 0);
    this.state0 = (this.entry0 + ENTRY.offsets.state) >> 2;
    this.entrySlot = region.layout.entries.slot;
    this.wordStride = this.entrySlot >> 2;
    const queue = region.layout.queueOffset(index);
    this.postSeq = (queue + Q.post_seq) >> 2;
    this.consumerSleepers = (queue + Q.consumer_sleepers) >> 2;
    this.pendingWord = (queue + Q.pending) >> 2;
    this.takeHint = (queue + Q.take_hint) >> 2;
    this.freeSeq = (queue + Q.free_seq) >> 2;
    this.producerSleepers = (queue + Q.producer_sleepers) >> 2;
    this.submitHint = (queue + Q.submit_hint) >> 2;
    const spin = options.spin ?? 2_000;
    const max = options.maxSpin ?? 20_000;
    // Floors keep a budget from collapsing to pure futex for good after idle periods (a spin only grows the
    // budget when it succeeds, so a zero budget never recovers). A service thread keeps a larger floor: it runs on
    // the tenant's reserved core, and catching the next request while spinning saves both futex calls.
    this.replySpin = new SpinBudget(spin, max, Math.min(max, REPLY_SPIN_FLOOR));
    this.fullSpin = new SpinBudget(spin, max, Math.min(max, REPLY_SPIN_FLOOR));
    this.takeSpin = new SpinBudget(spin, max, Math.min(max, options.takeSpinFloor ?? TAKE_SPIN_FLOOR));
    const peers = options.peerCpus;
    this.peerSameCore = peers === undefined ? undefined : () => peers.includes(currentCpu());
  }

  // ---- producer side ----

  /**
   * Put `request` in a free entry and publish it; returns the entry's slot, or -1 when every entry is
   * in use. Throws RequestRangeError for a descriptor that does not fit the region, RegionClosedError
   * when the service closed the region.
   */
  trySubmit(request: RequestDescriptor): number {
    this.checkRequest(request);
    this.checkOpen();
    const words = this.words;
    const capacity = this.capacity;
    let slot = (Atomics.add(words, this.submitHint, 1) >>> 0) % capacity;
    for (let tried = 0; tried < capacity; tried++, slot = slot + 1 === capacity ? 0 : slot + 1) {
      const state = this.state0 + slot * this.wordStride;
      if (Atomics.load(words, state) !== EMPTY || Atomics.compareExchange(words, state, EMPTY, WRITING) !== EMPTY) continue;
      const entry = this.entry0 + slot * this.entrySlot;
      writeRequest(this.view, entry, request);
      Atomics.store(words, state + WAITERS, 0);
      Atomics.store(words, state, VALID);
      Atomics.add(words, this.pendingWord, 1);
      Atomics.add(words, this.postSeq, 1);
      if (Atomics.load(words, this.consumerSleepers) !== 0) {
        futexWake(this.base + this.postSeq * 4, 1);
        this.stats.wakes++;
      }
      this.stats.submitted++;
      return slot;
    }
    return -1;
  }

  /**
   * Submit `request`, waiting while the queue is full (back-pressure: a request is never dropped).
   * Returns the slot to pass to {@link waitReply}. Throws like {@link trySubmit}, and WaitTimeoutError
   * when `timeoutMs` passes with the queue still full.
   */
  submit(request: RequestDescriptor, options: WaitOptions = {}): number {
    const deadline = options.timeoutMs === undefined ? Infinity : performance.now() + options.timeoutMs;
    let waited = false;
    for (;;) {
      const seq = Atomics.load(this.words, this.freeSeq);
      const slot = this.trySubmit(request);
      if (slot >= 0) return slot;
      if (!waited) {
        waited = true;
        this.stats.fullWaits++;
      }
      if (!waitForChange(this.target(this.freeSeq, this.producerSleepers), seq, this.fullSpin, this.stats, deadline, this.checkOpen)) {
        throw new WaitTimeoutError(`a free entry in queue ${this.index}`, options.timeoutMs ?? 0);
      }
    }
  }

  /**
   * Wait until the request in `slot` is answered, read the reply and free the entry.
   * Throws SlotStateError when the slot holds no request in flight (EMPTY, WRITING, or a state word
   * overwritten with garbage) — the ring cannot tell whose request a slot holds, so only wait on slots
   * this thread submitted — RegionClosedError when the service closed the region, WaitTimeoutError on timeout
   * (the slot stays submitted: call waitReply again).
   */
  waitReply(slot: number, options: WaitOptions = {}): Reply {
    this.checkSlot(slot);
    const words = this.words;
    const state = this.state0 + slot * this.wordStride;
    const deadline = options.timeoutMs === undefined ? Infinity : performance.now() + options.timeoutMs;
    for (;;) {
      const now = Atomics.load(words, state);
      if (now === DONE) break;
      if (now !== VALID && now !== SERVING) {
        throw new SlotStateError(this.index, slot, "VALID, SERVING or DONE", entryStateName(now) ?? `garbage ${now}`);
      }
      // Beside the service (its thread is pinned to this core), a spin only keeps it off the core it needs to answer.
      const budget = this.peerSameCore?.() ? this.noSpin : this.replySpin;
      if (!waitForChange(this.target(state, state + WAITERS), now, budget, this.stats, deadline, this.checkOpen)) {
        throw new WaitTimeoutError(`the reply in queue ${this.index} slot ${slot}`, options.timeoutMs ?? 0);
      }
    }
    const entry = this.entry0 + slot * this.entrySlot;
    const reply = readReply(this.view, entry);
    const requestId = readInt64(this.view, entry + ENTRY.offsets.request_id, false);
    const window = this.view.getUint32(entry + ENTRY.offsets.length, true);
    const bad = validateReply(window, reply.replyLength);
    this.free(state);
    return bad === 0 ? { ...reply, requestId } : { result: -bad, replyLength: 0, requestId };
  }

  /** Submit `request` and wait for its reply: one synchronous round trip. */
  call(request: RequestDescriptor, options: WaitOptions = {}): Reply {
    const deadline = options.timeoutMs === undefined ? undefined : performance.now() + options.timeoutMs;
    const slot = this.submit(request, options);
    return this.waitReply(slot, deadline === undefined ? {} : { timeoutMs: Math.max(0, deadline - performance.now()) });
  }

  // ---- consumer side ----

  /**
   * Take one published request if there is one (null otherwise). Garbage state words met on the way
   * are reset to EMPTY; a request with an unknown opcode or a bad window is returned with a non-zero
   * `status` to answer with. Never throws on anything a peer wrote.
   */
  tryTake(): TakenRequest | null {
    const words = this.words;
    const capacity = this.capacity;
    let slot = (Atomics.load(words, this.takeHint) >>> 0) % capacity;
    for (let tried = 0; tried < capacity; tried++, slot = slot + 1 === capacity ? 0 : slot + 1) {
      const state = this.state0 + slot * this.wordStride;
      const now = Atomics.load(words, state);
      if (now === VALID) {
        if (Atomics.compareExchange(words, state, VALID, SERVING) !== VALID) continue;
        Atomics.store(words, this.takeHint, slot + 1 === capacity ? 0 : slot + 1);
        Atomics.sub(words, this.pendingWord, 1);
        const request = readRequest(this.view, this.entry0 + slot * this.entrySlot);
        this.stats.taken++;
        return { slot, request, status: validateRequest(this.region.layout.params, request) };
      }
      if (validateState(now) !== 0 && Atomics.compareExchange(words, state, now, EMPTY) === now) {
        this.stats.repaired++;
        this.announceFree();
      }
    }
    return null;
  }

  /**
   * Take one request, waiting for one to be published: spin briefly, then sleep on the futex.
   * Returns null when `timeoutMs` passes first. Never throws on anything a peer wrote (the region's
   * status word included: a consumer stops by its own decision, between takes).
   */
  take(options: WaitOptions = {}): TakenRequest | null {
    const deadline = options.timeoutMs === undefined ? Infinity : performance.now() + options.timeoutMs;
    for (;;) {
      const seq = Atomics.load(this.words, this.postSeq);
      const taken = this.tryTake();
      if (taken !== null) return taken;
      if (!waitForChange(this.target(this.postSeq, this.consumerSleepers), seq, this.takeSpin, this.stats, deadline)) return null;
    }
  }

  /**
   * Answer the request in `slot` (taken by this consumer) with `result` (>= 0, or -errno) and
   * `replyLength` payload bytes already written at the window start, then wake its producer if it sleeps.
   * Returns false when the entry was tampered with meanwhile (no longer SERVING): the reply is dropped.
   * Throws SlotStateError / RequestRangeError only for the caller's own mistakes (bad slot, non-integer result).
   */
  complete(slot: number, result: number, replyLength = 0): boolean {
    this.checkSlot(slot);
    if (!Number.isSafeInteger(result)) throw new RequestRangeError("result", result, "safe integers (>= 0, or -errno)");
    const bufferSize = this.region.layout.params.bufferSize;
    if (!Number.isInteger(replyLength) || replyLength < 0 || replyLength > bufferSize) {
      throw new RequestRangeError("replyLength", replyLength, `0..${bufferSize}`);
    }
    const words = this.words;
    const state = this.state0 + slot * this.wordStride;
    writeReply(this.view, this.entry0 + slot * this.entrySlot, { result, replyLength });
    if (Atomics.compareExchange(words, state, SERVING, DONE) !== SERVING) {
      this.stats.tampered++;
      return false;
    }
    this.stats.completed++;
    if (Atomics.load(words, state + WAITERS) !== 0) {
      futexWake(this.base + state * 4, 1);
      this.stats.wakes++;
    }
    return true;
  }

  /**
   * Free every entry that client `client` left VALID (never taken) or DONE (never collected), e.g.
   * after that client process died. Returns how many were freed. Entries being served are left alone:
   * call again after their consumer completes them.
   */
  reclaimClient(client: number): number {
    const words = this.words;
    let freed = 0;
    for (let slot = 0; slot < this.capacity; slot++) {
      const state = this.state0 + slot * this.wordStride;
      const entry = this.entry0 + slot * this.entrySlot;
      const now = Atomics.load(words, state);
      if (now !== VALID && now !== DONE) continue;
      if (this.view.getUint32(entry + ENTRY.offsets.client, true) !== client >>> 0) continue;
      if (Atomics.compareExchange(words, state, now, EMPTY) !== now) continue;
      if (now === VALID) Atomics.sub(words, this.pendingWord, 1);
      freed++;
      this.announceFree();
    }
    this.stats.reclaimed += freed;
    return freed;
  }

  /** Requests published and not yet taken (approximate while producers and consumers run). */
  pending(): number {
    return Math.max(0, Atomics.load(this.words, this.pendingWord));
  }

  /** The state word of `slot` as it is now (for monitoring and tests). */
  stateOf(slot: number): number {
    this.checkSlot(slot);
    return Atomics.load(this.words, this.state0 + slot * this.wordStride);
  }

  /** Byte offset in the region of entry `slot` (for monitoring and tests). */
  entryOffset(slot: number): number {
    this.checkSlot(slot);
    return this.entry0 + slot * this.entrySlot;
  }

  /** Number of threads flagged asleep: [consumers waiting for requests, producers waiting for a free entry]. */
  sleepers(): [consumers: number, producers: number] {
    return [Atomics.load(this.words, this.consumerSleepers), Atomics.load(this.words, this.producerSleepers)];
  }

  private free(state: number): void {
    Atomics.store(this.words, state, EMPTY);
    this.announceFree();
  }

  private announceFree(): void {
    Atomics.add(this.words, this.freeSeq, 1);
    if (Atomics.load(this.words, this.producerSleepers) !== 0) {
      futexWake(this.base + this.freeSeq * 4, WAKE_ALL);
      this.stats.wakes++;
    }
  }

  private target(word: number, sleepers: number): WaitTarget {
    return { words: this.words, base: this.base, word, sleepers, peerSameCore: this.peerSameCore };
  }

  private checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.capacity) {
      throw new SlotStateError(this.index, slot, `a slot in 0..${this.capacity - 1}`, "an index out of range");
    }
  }

  private checkRequest(request: RequestDescriptor): void {
    const { bufferCount, bufferSize } = this.region.layout.params;
    const { opcode, buffer, offset, length, requestId, args, client } = request;
    if (!Number.isInteger(opcode) || opcode < 0 || opcode > 0xffffffff) throw new RequestRangeError("opcode", opcode, "0..2^32-1");
    if (!Number.isInteger(client) || client < 0 || client > 0xffffffff) throw new RequestRangeError("client", client, "0..2^32-1");
    if (!Number.isSafeInteger(requestId) || requestId < 0) throw new RequestRangeError("requestId", requestId, "0..2^53-1");
    if (!Number.isInteger(buffer) || buffer < 0 || buffer >= bufferCount) throw new RequestRangeError("buffer", buffer, `0..${bufferCount - 1}`);
    if (!Number.isInteger(offset) || offset < 0 || offset > bufferSize) throw new RequestRangeError("offset", offset, `0..${bufferSize}`);
    if (!Number.isInteger(length) || length < 0 || length > bufferSize - offset) {
      throw new RequestRangeError("length", length, `0..${bufferSize - offset} (the rest of the buffer)`);
    }
    if (args.length > ARG_COUNT) throw new RequestRangeError("args.length", args.length, `0..${ARG_COUNT}`);
    for (let i = 0; i < args.length; i++) {
      // Any integer-valued double in i64 range travels exactly (readdir cookies can be 63-bit hashes rounded to a double).
      const arg = args[i]!;
      if (!Number.isInteger(arg) || arg < -(2 ** 63) || arg >= 2 ** 63) throw new RequestRangeError(`args[${i}]`, arg, "integers in the i64 range");
    }
  }
}
