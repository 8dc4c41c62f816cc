/**
 * @module shared — the state every thread's UnionFileSystem over the same branches shares: the table of open
 * directory handles (slot state, the branch handle behind it, the directory's union path) in SharedArrayBuffers.
 *
 * A slot holds a path of up to PATH_MAX bytes itself. A longer one (a directory deeper than one syscall argument,
 * up to DANAUS_PATH_MAX bytes) takes one of {@link LONG_PATHS} long-path cells of the union, shared by all its slots,
 * so the table does not grow 16-fold for the rare deep directory; the pages of a cell are touched only when a path
 * is written there. When every cell is taken, opening another deep directory answers EMFILE.
 */
import { bytesToName, DANAUS_PATH_MAX, nameToBytes, PATH_MAX } from "../../kernel/ipc/protocol/index.ts";
import { GENERATION_MASK } from "./handle.ts";

/**
 * Words per directory slot: state (generation << 2 | state), branch index, branch handle, path length in bytes, the
 * long-path cell holding the path + 1 (0: the path is in the slot).
 */
const WORDS = 5;
const STATE = 0;
const BRANCH = 1;
const HANDLE = 2;
const LENGTH = 3;
const LONG = 4;
const FREE = 0;
const OPENING = 1;
const OPEN = 2;
/** Bytes of union path a slot holds itself (PATH_MAX). */
export const SLOT_PATH_BYTES = PATH_MAX;
/** Directories deeper than {@link SLOT_PATH_BYTES} a union holds open at once (each cell DANAUS_PATH_MAX bytes). */
export const LONG_PATHS = 64;
const DEFAULT_DIR_HANDLES = 1024;

/**
 * What the threads of one union share, as plain data (passable by postMessage): the directory-handle table.
 * Build it once with {@link createUnionShared} and hand the same object to every thread's UnionFileSystem.
 */
export interface UnionShared {
  /** Slot words ({@link WORDS} int32 per slot). */
  readonly dirSlots: SharedArrayBuffer;
  /** The union path of each open directory, {@link SLOT_PATH_BYTES} bytes per slot. */
  readonly dirPaths: SharedArrayBuffer;
  /** One word per long-path cell: 0 free, 1 taken. */
  readonly longSlots: SharedArrayBuffer;
  /** The long-path cells, DANAUS_PATH_MAX bytes each. */
  readonly longPaths: SharedArrayBuffer;
  /** Number of slots: directories open at once. */
  readonly maxDirHandles: number;
}

/** Allocates the shared state; `maxDirHandles` (1..65536, default 1024) bounds the directories open at once. */
export function createUnionShared(options: { maxDirHandles?: number } = {}): UnionShared {
  const count = options.maxDirHandles ?? DEFAULT_DIR_HANDLES;
  if (!Number.isInteger(count) || count < 1 || count > 65536) throw new RangeError(`maxDirHandles ${count} outside 1..65536`);
  return {
    dirSlots: new SharedArrayBuffer(count * WORDS * 4),
    dirPaths: new SharedArrayBuffer(count * SLOT_PATH_BYTES),
    longSlots: new SharedArrayBuffer(LONG_PATHS * 4),
    longPaths: new SharedArrayBuffer(LONG_PATHS * DANAUS_PATH_MAX),
    maxDirHandles: count,
  };
}

/** An open directory as the table records it. */
export interface DirSlot {
  readonly branch: number;
  readonly handle: number;
  /** The directory's canonical union path ("" for the root). */
  readonly path: string;
}

/** Paths are byte strings (names.ts of the protocol): one byte per char in a slot. */
const encoder = { encode: nameToBytes };
const decoder = { decode: (bytes: Uint8Array) => bytesToName(bytes) };

/** A thread's view of the shared directory table. */
export class DirTable {
  private readonly words: Int32Array;
  private readonly paths: Uint8Array;
  private readonly longWords: Int32Array;
  private readonly longPaths: Uint8Array;

  constructor(readonly shared: UnionShared) {
    this.words = new Int32Array(shared.dirSlots);
    this.paths = new Uint8Array(shared.dirPaths);
    this.longWords = new Int32Array(shared.longSlots);
    this.longPaths = new Uint8Array(shared.longPaths);
  }

  /**
   * Records an open directory; returns its slot and generation, or null when the table (or, for a path longer than
   * a slot holds, every long-path cell) is full (EMFILE), or the path is DANAUS_PATH_MAX bytes or longer
   * (ENAMETOOLONG: the caller checks {@link fits} first).
   */
  insert(slot: DirSlot): { slot: number; generation: number } | null {
    const bytes = encoder.encode(slot.path);
    if (!this.fits(slot.path)) return null;
    let long = -1;
    if (bytes.length > SLOT_PATH_BYTES) {
      long = this.takeLong();
      if (long < 0) return null;
      this.longPaths.set(bytes, long * DANAUS_PATH_MAX);
    }
    const w = this.words;
    for (let index = 0; index < this.shared.maxDirHandles; index++) {
      const at = index * WORDS;
      const word = Atomics.load(w, at + STATE);
      if ((word & 3) !== FREE) continue;
      const generation = ((word >>> 2) + 1) & GENERATION_MASK || 1;
      if (Atomics.compareExchange(w, at + STATE, word, (generation << 2) | OPENING) !== word) continue;
      if (long < 0) this.paths.set(bytes, index * SLOT_PATH_BYTES);
      Atomics.store(w, at + LONG, long + 1);
      Atomics.store(w, at + BRANCH, slot.branch);
      Atomics.store(w, at + HANDLE, slot.handle);
      Atomics.store(w, at + LENGTH, bytes.length);
      Atomics.store(w, at + STATE, (generation << 2) | OPEN);
      return { slot: index, generation };
    }
    if (long >= 0) Atomics.store(this.longWords, long, 0);
    return null;
  }

  /** Whether `path` is short enough to be recorded (shorter than DANAUS_PATH_MAX bytes). */
  fits(path: string): boolean {
    return path.length < DANAUS_PATH_MAX;
  }

  /** Takes a free long-path cell; -1 when all are taken. */
  private takeLong(): number {
    for (let cell = 0; cell < LONG_PATHS; cell++) {
      if (Atomics.compareExchange(this.longWords, cell, 0, 1) === 0) return cell;
    }
    return -1;
  }

  /** The open directory in `slot` at `generation`; null when that handle is not open (EBADF). */
  get(slot: number, generation: number): DirSlot | null {
    if (slot >= this.shared.maxDirHandles) return null;
    const at = slot * WORDS;
    const word = Atomics.load(this.words, at + STATE);
    if ((word & 3) !== OPEN || word >>> 2 !== generation) return null;
    const length = Atomics.load(this.words, at + LENGTH);
    const long = Atomics.load(this.words, at + LONG) - 1;
    const [paths, start] = long < 0 ? [this.paths, slot * SLOT_PATH_BYTES] : [this.longPaths, long * DANAUS_PATH_MAX];
    // TextDecoder refuses views of shared memory: copy out first.
    const path = decoder.decode(paths.slice(start, start + length));
    return { branch: Atomics.load(this.words, at + BRANCH), handle: Atomics.load(this.words, at + HANDLE), path };
  }

  /** Frees the slot of an open handle and returns what it held; null when it was not open (EBADF). */
  remove(slot: number, generation: number): DirSlot | null {
    const held = this.get(slot, generation);
    if (held === null) return null;
    const at = slot * WORDS;
    const open = (generation << 2) | OPEN;
    const long = Atomics.load(this.words, at + LONG) - 1;
    if (Atomics.compareExchange(this.words, at + STATE, open, generation << 2) !== open) return null;
    if (long >= 0) Atomics.store(this.longWords, long, 0);
    return held;
  }
}
