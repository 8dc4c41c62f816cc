/**
 * @module activity — what each service thread of the router is serving right now, in a SharedArrayBuffer: the thread
 * writes its request's queue, entry slot, opcode, client and start time when it takes one and clears it when done; the
 * router's watchdog (never a service thread: a stuck thread cannot report itself) reads the table to find requests
 * held longer than a bound, adds a thread to their queue and lists them in `danaus status`.
 */

/** Int32 words per thread slot: sequence (odd while serving), queue, entry slot, opcode, client. */
const WORDS = 5;
const SEQ = 0;
const QUEUE = 1;
const ENTRY = 2;
const OPCODE = 3;
const CLIENT = 4;

/** A request a service thread has been serving since `startedAt`. */
export interface ActiveRequest {
  /** Thread slot in the table. */
  readonly thread: number;
  readonly queue: number;
  /** Entry slot in the queue (for reading its descriptor and window). */
  readonly entry: number;
  readonly opcode: number;
  readonly client: number;
  /** `Date.now()` when the thread took it. */
  readonly startedAt: number;
}

/** The shared table: one slot per service thread the router may run. Construct it over the same buffer in every thread. */
export class ActivityTable {
  private readonly words: Int32Array;
  private readonly started: Float64Array;
  /** Number of thread slots. */
  readonly capacity: number;

  /** The buffer for a table of `threads` slots. */
  static allocate(threads: number): SharedArrayBuffer {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`activity table of ${threads} threads`);
    return new SharedArrayBuffer(threads * (WORDS * 4 + 8));
  }

  constructor(buffer: SharedArrayBuffer) {
    this.capacity = buffer.byteLength / (WORDS * 4 + 8);
    this.started = new Float64Array(buffer, 0, this.capacity);
    this.words = new Int32Array(buffer, this.capacity * 8, this.capacity * WORDS);
  }

  /** Thread `thread` took a request: records it (the sequence word turns odd last, so a reader sees whole records). */
  begin(thread: number, queue: number, entry: number, opcode: number, client: number): void {
    const at = thread * WORDS;
    const w = this.words;
    this.started[thread] = Date.now();
    w[at + QUEUE] = queue;
    w[at + ENTRY] = entry;
    w[at + OPCODE] = opcode | 0;
    w[at + CLIENT] = client | 0;
    Atomics.store(w, at + SEQ, (Atomics.load(w, at + SEQ) | 1) >>> 0);
  }

  /** Thread `thread` answered its request. */
  end(thread: number): void {
    const at = thread * WORDS + SEQ;
    Atomics.store(this.words, at, (Atomics.load(this.words, at) + 1) & ~1);
  }

  /** Clears a slot for a new thread (its previous owner is gone). */
  reset(thread: number): void {
    Atomics.store(this.words, thread * WORDS + SEQ, 0);
  }

  /** The request thread `thread` serves now, or null when it is idle (or its record changed while being read). */
  current(thread: number): ActiveRequest | null {
    const at = thread * WORDS;
    const w = this.words;
    const seq = Atomics.load(w, at + SEQ);
    if ((seq & 1) === 0) return null;
    const request: ActiveRequest = {
      thread,
      queue: w[at + QUEUE]!,
      entry: w[at + ENTRY]!,
      opcode: w[at + OPCODE]! >>> 0,
      client: w[at + CLIENT]! >>> 0,
      startedAt: this.started[thread]!,
    };
    return Atomics.load(w, at + SEQ) === seq ? request : null;
  }
}
