/**
 * @module shared — the state every thread's UnionFileSystem over the same branches shares: the table of open
 * directory handles (slot state, the branch handle behind it, the directory's union path) in SharedArrayBuffers.
 *
 * A slot holds a path of up to PATH_MAX bytes itself. A longer one (a directory deeper than one syscall argument:
 * a union path has no bound but memory) goes to the union's pool of long paths, a {@link ChunkStore} of
 * {@link LONG_PATH_BYTES} bytes shared by all its slots, whose pages are touched only when a path is written there; so
 * the table does not grow for the rare deep directory. When the pool is full, opening another deep directory answers
 * EMFILE.
 */
import { bytesToName, nameToBytes, PATH_MAX } from "../../kernel/ipc/protocol/index.ts";
import { type ChunkPool, ChunkStore } from "../../kernel/ipc/ring/index.ts";
import { GENERATION_MASK } from "./handle.ts";

/**
 * Words per directory slot: state (generation << 2 | state), branch index, branch handle, path length in bytes, the
 * first chunk of the path in the long-path pool + 1 (0: the path is in the slot).
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
/** Bytes of the long-path pool's chunks. */
const LONG_CHUNK_BYTES = 4096;
/** Bytes of the paths of deep directories (longer than a slot holds) a union holds open at once: 64 MiB. */
export const LONG_PATH_BYTES = 64 << 20;
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
  /** The paths longer than a slot holds. */
  readonly longPaths: ChunkPool;
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
    longPaths: ChunkStore.allocate(LONG_PATH_BYTES / LONG_CHUNK_BYTES, LONG_CHUNK_BYTES),
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
  private readonly longPaths: ChunkStore;

  constructor(readonly shared: UnionShared) {
    this.words = new Int32Array(shared.dirSlots);
    this.paths = new Uint8Array(shared.dirPaths);
    this.longPaths = new ChunkStore(shared.longPaths);
  }

  /**
   * Records an open directory; returns its slot and generation, or null when the table (or, for a path longer than
   * a slot holds, the long-path pool) is full (EMFILE).
   */
  insert(slot: DirSlot): { slot: number; generation: number } | null {
    const bytes = encoder.encode(slot.path);
    let long = -1;
    if (bytes.length > SLOT_PATH_BYTES) {
      long = this.longPaths.take(bytes.length);
      if (long < 0) return null;
      this.longPaths.write(long, 0, bytes);
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
    if (long >= 0) this.longPaths.release(long);
    return null;
  }

  /** The open directory in `slot` at `generation`; null when that handle is not open (EBADF). */
  get(slot: number, generation: number): DirSlot | null {
    if (slot >= this.shared.maxDirHandles) return null;
    const at = slot * WORDS;
    const word = Atomics.load(this.words, at + STATE);
    if ((word & 3) !== OPEN || word >>> 2 !== generation) return null;
    const length = Atomics.load(this.words, at + LENGTH);
    const long = Atomics.load(this.words, at + LONG) - 1;
    // TextDecoder refuses views of shared memory: copy out first.
    const bytes = long < 0 ? this.paths.slice(slot * SLOT_PATH_BYTES, slot * SLOT_PATH_BYTES + length) : this.longPaths.read(long, 0, length);
    return { branch: Atomics.load(this.words, at + BRANCH), handle: Atomics.load(this.words, at + HANDLE), path: decoder.decode(bytes) };
  }

  /** Frees the slot of an open handle and returns what it held; null when it was not open (EBADF). */
  remove(slot: number, generation: number): DirSlot | null {
    const held = this.get(slot, generation);
    if (held === null) return null;
    const at = slot * WORDS;
    const open = (generation << 2) | OPEN;
    const long = Atomics.load(this.words, at + LONG) - 1;
    if (Atomics.compareExchange(this.words, at + STATE, open, generation << 2) !== open) return null;
    if (long >= 0) this.longPaths.release(long);
    return held;
  }
}
