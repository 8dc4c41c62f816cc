/**
 * @module file-table — the service open-file table, in a SharedArrayBuffer so every service thread (Worker) of the
 * router can serve any client's descriptor. A service descriptor names a slot and its generation, so a stale or
 * forged descriptor never reaches another client's file; a slot is only closed once no thread is using it.
 *
 * A slot also says whether it is a directory stream, and the table's header holds the most directory streams one
 * client may hold open at once (the tenant's `maxDirStreams`), so every thread enforces the same limit.
 */

/** Header words: the directory-stream limit per client. */
const HEADER = 1;
const DIR_LIMIT = 0;
/** Words per slot: state+generation, owner client, backend handle, mount id, users in flight, directory stream (0/1). */
const WORDS = 6;
const STATE = 0;
const OWNER = 1;
const HANDLE = 2;
const MOUNT = 3;
const USERS = 4;
const DIR = 5;

/** Slot states, in the low 2 bits of the state word; the generation is in the bits above. */
const FREE = 0;
const OPENING = 1;
const OPEN = 2;
const CLOSING = 3;

const SLOT_BITS = 16;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
const GENERATION_MASK = 0x3fff;
/** The largest descriptor: the highest generation in the bits above the slot. */
const MAX_FD = (GENERATION_MASK << SLOT_BITS) | SLOT_MASK;

/** A descriptor that passed {@link FileTable.acquire}: release it with {@link FileTable.release} when done. */
export interface AcquiredFile {
  readonly slot: number;
  readonly handle: number;
  readonly mount: number;
}

/** Directory streams one client may hold open at once by default (the tenant's `maxDirStreams`). */
export const DEFAULT_MAX_DIR_STREAMS = 1024;

/** The shared open-file table. Construct it over the same SharedArrayBuffer in every thread. */
export class FileTable {
  private readonly words: Int32Array;
  /** Number of slots. */
  readonly capacity: number;

  /**
   * The buffer to create a table of `capacity` slots (at most 65536) over, allowing each client `maxDirStreams`
   * directory streams at once (1..capacity).
   */
  static allocate(capacity: number, maxDirStreams = DEFAULT_MAX_DIR_STREAMS): SharedArrayBuffer {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > SLOT_MASK + 1) throw new RangeError(`file table capacity ${capacity} outside 1..${SLOT_MASK + 1}`);
    if (!Number.isInteger(maxDirStreams) || maxDirStreams < 1) throw new RangeError(`directory streams per client ${maxDirStreams} is not a positive integer`);
    const buffer = new SharedArrayBuffer((HEADER + capacity * WORDS) * 4);
    new Int32Array(buffer)[DIR_LIMIT] = Math.min(maxDirStreams, capacity);
    return buffer;
  }

  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
    this.capacity = (this.words.length - HEADER) / WORDS;
  }

  /** Directory streams one client may hold open at once. */
  get maxDirStreams(): number {
    return this.words[DIR_LIMIT]!;
  }

  /**
   * Records a newly opened backend handle for `owner`; returns the service descriptor (≥ 0), or -1 when the table is
   * full or, for a directory stream (`dirStream`), when `owner` already holds {@link maxDirStreams} of them (the caller
   * closes the handle and answers EMFILE either way).
   */
  insert(owner: number, mount: number, handle: number, dirStream = false): number {
    const w = this.words;
    for (let slot = 0; slot < this.capacity; slot++) {
      const at = HEADER + slot * WORDS;
      const word = Atomics.load(w, at + STATE);
      if ((word & 3) !== FREE) continue;
      const generation = ((word >>> 2) + 1) & GENERATION_MASK || 1;
      if (Atomics.compareExchange(w, at + STATE, word, (generation << 2) | OPENING) !== word) continue;
      Atomics.store(w, at + OWNER, owner | 0);
      Atomics.store(w, at + HANDLE, handle | 0);
      Atomics.store(w, at + MOUNT, mount | 0);
      Atomics.store(w, at + USERS, 0);
      Atomics.store(w, at + DIR, dirStream ? 1 : 0);
      // Counted while still OPENING, so two threads opening at once can both fail but never both pass the limit.
      if (dirStream && this.dirStreams(owner) > this.maxDirStreams) {
        Atomics.store(w, at + DIR, 0);
        Atomics.store(w, at + STATE, word);
        return -1;
      }
      Atomics.store(w, at + STATE, (generation << 2) | OPEN);
      return (generation << SLOT_BITS) | slot;
    }
    return -1;
  }

  /**
   * Counts open descriptor `fd` of `client` as a directory stream from now on (one opened without O_DIRECTORY that is
   * being read as one). Returns false when that would pass the client's limit (EMFILE); true when it is counted (or
   * already was). `fd` must be held by an acquire.
   */
  markDirStream(fd: number, client: number): boolean {
    const slot = this.slotOf(fd);
    if (slot < 0) return false;
    const at = HEADER + slot * WORDS;
    if (Atomics.compareExchange(this.words, at + DIR, 0, 1) !== 0) return true;
    if (this.dirStreams(client) <= this.maxDirStreams) return true;
    Atomics.store(this.words, at + DIR, 0);
    return false;
  }

  /** Directory streams `client` holds (being opened or open); for the limit, status and tests. */
  dirStreams(client: number): number {
    const w = this.words;
    let count = 0;
    for (let at = HEADER; at < w.length; at += WORDS) {
      if (Atomics.load(w, at + DIR) === 0 || Atomics.load(w, at + OWNER) !== (client | 0)) continue;
      const state = Atomics.load(w, at + STATE) & 3;
      if (state === OPENING || state === OPEN) count++;
    }
    return count;
  }

  /**
   * Looks up descriptor `fd` for `client` and marks it in use; null when it is not an open descriptor of that client
   * (the caller answers EBADF). Every successful acquire must be followed by {@link release}.
   */
  acquire(fd: number, client: number): AcquiredFile | null {
    const slot = this.slotOf(fd);
    if (slot < 0) return null;
    const w = this.words;
    const at = HEADER + slot * WORDS;
    Atomics.add(w, at + USERS, 1);
    const word = Atomics.load(w, at + STATE);
    if ((word & 3) !== OPEN || word >>> 2 !== fd >>> SLOT_BITS || Atomics.load(w, at + OWNER) !== (client | 0)) {
      Atomics.sub(w, at + USERS, 1);
      return null;
    }
    return { slot, handle: Atomics.load(w, at + HANDLE), mount: Atomics.load(w, at + MOUNT) };
  }

  /** Ends a use begun by {@link acquire}. */
  release(file: AcquiredFile): void {
    Atomics.sub(this.words, HEADER + file.slot * WORDS + USERS, 1);
  }

  /**
   * Takes descriptor `fd` of `client` out of the table once no other thread uses it, and returns its backend handle
   * and mount for the caller to close; null when it is not an open descriptor of that client (EBADF).
   * `holding` is true when the caller itself holds an acquire on it.
   */
  remove(fd: number, client: number, holding = false): { handle: number; mount: number } | null {
    const slot = this.slotOf(fd);
    if (slot < 0) return null;
    const w = this.words;
    const at = HEADER + slot * WORDS;
    const word = Atomics.load(w, at + STATE);
    if ((word & 3) !== OPEN || word >>> 2 !== fd >>> SLOT_BITS || Atomics.load(w, at + OWNER) !== (client | 0)) return null;
    if (Atomics.compareExchange(w, at + STATE, word, (word & ~3) | CLOSING) !== word) return null;
    return this.drain(at, word, holding ? 1 : 0);
  }

  /** Removes every descriptor `client` still holds (its process died); returns their handles and mounts to close. */
  removeClient(client: number): { handle: number; mount: number }[] {
    const w = this.words;
    const removed: { handle: number; mount: number }[] = [];
    for (let slot = 0; slot < this.capacity; slot++) {
      const at = HEADER + slot * WORDS;
      const word = Atomics.load(w, at + STATE);
      if ((word & 3) !== OPEN || Atomics.load(w, at + OWNER) !== (client | 0)) continue;
      if (Atomics.compareExchange(w, at + STATE, word, (word & ~3) | CLOSING) !== word) continue;
      removed.push(this.drain(at, word, 0));
    }
    return removed;
  }

  /** Number of open descriptors (for status and tests). */
  openCount(): number {
    let open = 0;
    for (let slot = 0; slot < this.capacity; slot++) if ((Atomics.load(this.words, HEADER + slot * WORDS + STATE) & 3) === OPEN) open++;
    return open;
  }

  /**
   * The slot a descriptor names, or -1 when it cannot be one this table handed out (not an integer, negative, above
   * the largest generation|slot value, or a slot past the capacity). Checked before any bit operation: `>>>` and `&`
   * wrap modulo 2^32, so `fd + 2^32` would otherwise alias `fd`.
   */
  private slotOf(fd: number): number {
    if (!Number.isInteger(fd) || fd < 0 || fd > MAX_FD) return -1;
    const slot = fd & SLOT_MASK;
    return slot < this.capacity ? slot : -1;
  }

  private drain(at: number, word: number, own: number): { handle: number; mount: number } {
    const w = this.words;
    // Other threads may be mid-operation on this handle; they finish in microseconds.
    while (Atomics.load(w, at + USERS) > own) Atomics.wait(w, at + USERS, Atomics.load(w, at + USERS), 1);
    const result = { handle: Atomics.load(w, at + HANDLE), mount: Atomics.load(w, at + MOUNT) };
    Atomics.store(w, at + STATE, word & ~3);
    return result;
  }
}
