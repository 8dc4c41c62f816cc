/**
 * @module change-log — which files the router's clients wrote, so that fuse-legacy can drop what the kernel cached of
 * them (a shared mapping's pages, attributes) on the kernel path: a SharedArrayBuffer ring of (client, st_dev, st_ino)
 * that service threads append to after a write, pwrite, ftruncate or truncate while someone watches, and the router's
 * main thread drains to its watchers (see registry.ts). Nothing is recorded, and no fstat is paid, while nobody
 * watches. A thread records a file once per drain: a later write before the next drain is covered by it, since the
 * drain starts a new generation before it reads the ring. When writers lap the reader, the lost entries are counted.
 * Clients of a watcher's own process (fuse-legacy's: the kernel knows what it wrote) are quiet: their writes cost one
 * scan of a short list, no fstat, no record.
 */

/** Entries the ring holds; a drain every few milliseconds keeps far below it. */
const CAPACITY = 4096;
// Header words.
const WATCHERS = 0;
const WRITTEN = 1;
const GENERATION = 2;
/** How many quiet-client words are in use (from QUIET on). */
const QUIET_USED = 3;
const HEADER_WORDS = 4;
/** Client ids whose writes are not recorded (0: none). */
const QUIET_SLOTS = 64;
// Per entry: a commit word (index + 1 once the entry is complete) and the client in `words`; dev and ino in `numbers`.
const ENTRY_WORDS = 2;

/** One recorded change. */
export interface Change {
  readonly client: number;
  readonly st_dev: number;
  readonly st_ino: number;
}

/** A view of the ring; build the buffer once with {@link ChangeLog.allocate} and a view of it in every thread. */
export class ChangeLog {
  private readonly words: Int32Array;
  private readonly numbers: Float64Array;
  /** What this thread recorded in the current generation (keys "client:file"), to record each file once per drain. */
  private readonly recorded = new Set<string>();
  private recordedGeneration = -1;

  /** A fresh ring. */
  static allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer((HEADER_WORDS + CAPACITY * ENTRY_WORDS + QUIET_SLOTS) * 4 + CAPACITY * 2 * 8);
  }

  private readonly quietAt: number;

  constructor(readonly shared: SharedArrayBuffer) {
    this.words = new Int32Array(shared, 0, HEADER_WORDS + CAPACITY * ENTRY_WORDS + QUIET_SLOTS);
    this.numbers = new Float64Array(shared, (HEADER_WORDS + CAPACITY * ENTRY_WORDS + QUIET_SLOTS) * 4, CAPACITY * 2);
    this.quietAt = HEADER_WORDS + CAPACITY * ENTRY_WORDS;
  }

  /** Whether `client`'s writes go unrecorded. */
  isQuiet(client: number): boolean {
    const used = Atomics.load(this.words, QUIET_USED);
    for (let i = 0; i < used; i++) if (Atomics.load(this.words, this.quietAt + i) === client) return true;
    return false;
  }

  /**
   * Main thread: `client`'s writes go unrecorded (`quiet` true) or recorded again. Past {@link QUIET_SLOTS} quiet
   * clients, the rest are recorded (and left out by the registry instead).
   */
  quiet(client: number, quiet: boolean): void {
    const used = Atomics.load(this.words, QUIET_USED);
    for (let i = 0; i < used; i++) {
      const word = this.quietAt + i;
      if (quiet && Atomics.load(this.words, word) === client) return;
      if (!quiet && Atomics.load(this.words, word) === client) Atomics.store(this.words, word, 0);
    }
    if (!quiet) return;
    for (let i = 0; i < QUIET_SLOTS; i++) {
      if (Atomics.load(this.words, this.quietAt + i) !== 0) continue;
      Atomics.store(this.words, this.quietAt + i, client);
      if (i >= used) Atomics.store(this.words, QUIET_USED, i + 1);
      return;
    }
  }

  /** Whether anyone watches (one atomic load: what a write pays while nobody does). */
  get watched(): boolean {
    return Atomics.load(this.words, WATCHERS) > 0;
  }

  /** One more (`delta` 1) or one fewer (-1) watcher. */
  watch(delta: 1 | -1): void {
    Atomics.add(this.words, WATCHERS, delta);
  }

  /**
   * Whether this thread already recorded `client`'s change of `file` (its descriptor, or a path) since the last drain;
   * if not, it counts as recorded from now on (the caller then records it). Costs no fstat.
   */
  seen(client: number, file: number | string): boolean {
    const generation = Atomics.load(this.words, GENERATION);
    if (generation !== this.recordedGeneration) {
      this.recorded.clear();
      this.recordedGeneration = generation;
    }
    const key = `${client}:${file}`;
    if (this.recorded.has(key)) return true;
    this.recorded.add(key);
    return false;
  }

  /** Records that `client` changed the file (`st_dev`, `st_ino`). */
  record(client: number, st_dev: number, st_ino: number): void {
    const index = Atomics.add(this.words, WRITTEN, 1);
    const slot = index % CAPACITY;
    this.words[HEADER_WORDS + slot * ENTRY_WORDS + 1] = client;
    this.numbers[slot * 2] = st_dev;
    this.numbers[slot * 2 + 1] = st_ino;
    Atomics.store(this.words, HEADER_WORDS + slot * ENTRY_WORDS, (index + 1) | 0);
    Atomics.notify(this.words, WRITTEN);
  }

  /** The index the next record gets: a reader starting now reads from here. */
  get written(): number {
    return Atomics.load(this.words, WRITTEN);
  }

  /**
   * Main thread: starts a new generation and reads the complete entries from index `from` on. Returns them, the index
   * to read from next time (an entry still being written is read then), and how many were lost to lapping writers.
   */
  drain(from: number): { changes: Change[]; next: number; lost: number } {
    Atomics.add(this.words, GENERATION, 1);
    const written = Atomics.load(this.words, WRITTEN);
    const lost = Math.max(0, written - from - CAPACITY);
    const changes: Change[] = [];
    let index = from + lost;
    for (; index < written; index++) {
      const slot = index % CAPACITY;
      if (Atomics.load(this.words, HEADER_WORDS + slot * ENTRY_WORDS) !== ((index + 1) | 0)) break;
      changes.push({ client: this.words[HEADER_WORDS + slot * ENTRY_WORDS + 1]!, st_dev: this.numbers[slot * 2]!, st_ino: this.numbers[slot * 2 + 1]! });
    }
    return { changes, next: index, lost };
  }

  /** Resolves once an entry at index `from` or later may have been written, or after `timeoutMs`. */
  async whenWritten(from: number, timeoutMs: number): Promise<void> {
    const seen = Atomics.load(this.words, WRITTEN);
    if (seen !== from) return;
    await Atomics.waitAsync(this.words, WRITTEN, seen, timeoutMs).value;
  }
}
