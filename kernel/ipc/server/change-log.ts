/**
 * @module change-log — what the router's clients changed, so that fuse-legacy can drop what the kernel cached of it on
 * the kernel path: a SharedArrayBuffer ring that service threads append to while someone watches, and the router's
 * main thread drains to its watchers (see registry.ts). Two kinds of entry: a file whose data or attributes changed
 * (client, st_dev, st_ino: after a write, pwrite, ftruncate, truncate, chmod, chown, utimens or link), and a name
 * change (client, mount, the path as bytes: a name added, removed or moved, with the file it named). Paths are bytes
 * in a byte arena beside the ring, reserved by a byte cursor; a reader that finds an entry's bytes overwritten by
 * later writers counts it lost. Nothing is recorded, and no stat is paid, while nobody watches. A thread records one
 * change once per drain: a later change before the next drain is covered by it, since the drain starts a new
 * generation before it reads the ring. When writers lap the reader, the lost entries are counted. Clients of a
 * watcher's own process (fuse-legacy's: the kernel knows what it changed) are quiet: their changes cost one scan of a
 * short list, no stat, no record.
 */
import { bytesToName } from "../protocol/index.ts";

/** Entries the ring holds; a drain every few milliseconds keeps far below it. */
const CAPACITY = 4096;
/** Bytes of the path arena (a power of two): room for two paths of DANAUS_PATH_MAX, and thousands of short ones. */
const ARENA_BYTES = 256 * 1024;
// Header words.
const WATCHERS = 0;
const WRITTEN = 1;
const GENERATION = 2;
/** How many quiet-client words are in use (from QUIET on). */
const QUIET_USED = 3;
/** The arena's byte cursor: bytes reserved so far (modulo 2^32). */
const ARENA_WRITTEN = 4;
const HEADER_WORDS = 5;
/** Client ids whose writes are not recorded (0: none). */
const QUIET_SLOTS = 64;
// Per entry, in `words`: a commit word (index + 1 once the entry is complete), the client, the kind, the mount and the
// path's byte length; in `numbers`: st_dev, st_ino and the path's start in the arena.
const ENTRY_WORDS = 5;
const ENTRY_NUMBERS = 3;
const KIND_FILE = 0;
const NAME_KINDS = ["added", "removed", "moved"] as const;

/** One recorded change of a file's data or attributes. */
export interface Change {
  readonly client: number;
  readonly st_dev: number;
  readonly st_ino: number;
}

/**
 * What happened to a name: "added" (created, linked, or renamed onto when nothing was there), "removed" (unlinked,
 * removed, or replaced by a rename: the file it named is `st_dev`/`st_ino`), "moved" (renamed from `path` to `to`; the
 * file is `st_dev`/`st_ino`).
 */
export type NameChangeKind = (typeof NAME_KINDS)[number];

/** One recorded name change in mount `mount`; paths are byte strings (one char per byte), inside the mount. */
export interface NameChange {
  readonly client: number;
  readonly mount: number;
  readonly kind: NameChangeKind;
  readonly path: string;
  /** The new path of a "moved" name. */
  readonly to?: string;
  /** The file the name named (0, 0 for "added"). */
  readonly st_dev: number;
  readonly st_ino: number;
}

/** A view of the ring; build the buffer once with {@link ChangeLog.allocate} and a view of it in every thread. */
export class ChangeLog {
  private readonly words: Int32Array;
  private readonly numbers: Float64Array;
  private readonly arena: Uint8Array;
  /** What this thread recorded in the current generation (keys "client:file"), to record each change once per drain. */
  private readonly recorded = new Set<string>();
  private recordedGeneration = -1;

  /** A fresh ring. */
  static allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(ChangeLog.layout().arenaAt + ARENA_BYTES);
  }

  private static layout(): { wordCount: number; numbersAt: number; arenaAt: number } {
    const wordCount = HEADER_WORDS + CAPACITY * ENTRY_WORDS + QUIET_SLOTS;
    const numbersAt = Math.ceil((wordCount * 4) / 8) * 8;
    return { wordCount, numbersAt, arenaAt: numbersAt + CAPACITY * ENTRY_NUMBERS * 8 };
  }

  private readonly quietAt: number;

  constructor(readonly shared: SharedArrayBuffer) {
    const { wordCount, numbersAt, arenaAt } = ChangeLog.layout();
    this.words = new Int32Array(shared, 0, wordCount);
    this.numbers = new Float64Array(shared, numbersAt, CAPACITY * ENTRY_NUMBERS);
    this.arena = new Uint8Array(shared, arenaAt, ARENA_BYTES);
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
    this.append(client, KIND_FILE, 0, st_dev, st_ino, 0, 0);
  }

  /**
   * Records that `client` changed a name of mount `mount` (see {@link NameChangeKind}): `path` (and `to` for "moved")
   * are byte strings inside the mount; `file` is the file the name named (none for "added").
   */
  recordName(client: number, mount: number, kind: NameChangeKind, path: string, to?: string, file?: { readonly st_dev: number; readonly st_ino: number }): void {
    const length = path.length + (to === undefined ? 0 : 1 + to.length);
    // Longer than half the arena (only paths staged past a request window are): the reader counts it lost, and the
    // kernel path sees the change when its entry for the name times out.
    if (length > ARENA_BYTES / 2) return this.append(client, 1 + NAME_KINDS.indexOf(kind), mount, 0, 0, 0, -1);
    const start = Atomics.add(this.words, ARENA_WRITTEN, length) >>> 0;
    const mask = ARENA_BYTES - 1;
    for (let i = 0; i < path.length; i++) this.arena[(start + i) & mask] = path.charCodeAt(i);
    if (to !== undefined) {
      this.arena[(start + path.length) & mask] = 0;
      for (let i = 0; i < to.length; i++) this.arena[(start + path.length + 1 + i) & mask] = to.charCodeAt(i);
    }
    this.append(client, 1 + NAME_KINDS.indexOf(kind), mount, file?.st_dev ?? 0, file?.st_ino ?? 0, start, length);
  }

  private append(client: number, kind: number, mount: number, st_dev: number, st_ino: number, start: number, length: number): void {
    const index = Atomics.add(this.words, WRITTEN, 1);
    const slot = index % CAPACITY;
    const at = HEADER_WORDS + slot * ENTRY_WORDS;
    this.words[at + 1] = client;
    this.words[at + 2] = kind;
    this.words[at + 3] = mount;
    this.words[at + 4] = length;
    this.numbers[slot * ENTRY_NUMBERS] = st_dev;
    this.numbers[slot * ENTRY_NUMBERS + 1] = st_ino;
    this.numbers[slot * ENTRY_NUMBERS + 2] = start;
    Atomics.store(this.words, at, (index + 1) | 0);
    Atomics.notify(this.words, WRITTEN);
  }

  /** The index the next record gets: a reader starting now reads from here. */
  get written(): number {
    return Atomics.load(this.words, WRITTEN);
  }

  /**
   * Main thread: starts a new generation and reads the complete entries from index `from` on. Returns the file changes,
   * the name changes, the index to read from next time (an entry still being written is read then), and how many were
   * lost to lapping writers (entries, or paths whose bytes later writers overwrote).
   */
  drain(from: number): { changes: Change[]; names: NameChange[]; next: number; lost: number } {
    Atomics.add(this.words, GENERATION, 1);
    const written = Atomics.load(this.words, WRITTEN);
    let lost = Math.max(0, written - from - CAPACITY);
    const changes: Change[] = [];
    const names: NameChange[] = [];
    let index = from + lost;
    for (; index < written; index++) {
      const slot = index % CAPACITY;
      const at = HEADER_WORDS + slot * ENTRY_WORDS;
      if (Atomics.load(this.words, at) !== ((index + 1) | 0)) break;
      const client = this.words[at + 1]!;
      const kind = this.words[at + 2]!;
      const st_dev = this.numbers[slot * ENTRY_NUMBERS]!;
      const st_ino = this.numbers[slot * ENTRY_NUMBERS + 1]!;
      if (kind === KIND_FILE) {
        changes.push({ client, st_dev, st_ino });
        continue;
      }
      const bytes = this.words[at + 4]! < 0 ? undefined : this.readArena(this.numbers[slot * ENTRY_NUMBERS + 2]!, this.words[at + 4]!);
      if (bytes === undefined) {
        lost++;
        continue;
      }
      const split = kind === 1 + NAME_KINDS.indexOf("moved") ? bytes.indexOf(0) : -1;
      const path = bytesToName(bytes, 0, split < 0 ? bytes.length : split);
      const name: NameChange = { client, mount: this.words[at + 3]!, kind: NAME_KINDS[kind - 1]!, path, st_dev, st_ino };
      names.push(split < 0 ? name : { ...name, to: bytesToName(bytes, split + 1) });
    }
    return { changes, names, next: index, lost };
  }

  /** A copy of `length` arena bytes from `start`, or undefined when later writers may have overwritten them. */
  private readArena(start: number, length: number): Buffer | undefined {
    const mask = ARENA_BYTES - 1;
    const copy = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) copy[i] = this.arena[(start + i) & mask]!;
    // Writers reserve before they write: bytes reserved up to `start` + ARENA_BYTES never reach ours.
    const reserved = (Atomics.load(this.words, ARENA_WRITTEN) - start) >>> 0;
    return reserved <= ARENA_BYTES ? copy : undefined;
  }

  /** Resolves once an entry at index `from` or later may have been written, or after `timeoutMs`. */
  async whenWritten(from: number, timeoutMs: number): Promise<void> {
    const seen = Atomics.load(this.words, WRITTEN);
    if (seen !== from) return;
    await Atomics.waitAsync(this.words, WRITTEN, seen, timeoutMs).value;
  }
}
