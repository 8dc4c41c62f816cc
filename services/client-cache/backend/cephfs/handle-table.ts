/**
 * @module handle-table — the process-wide table of open cephfs handles in a SharedArrayBuffer, so that a handle opened
 * in one thread (Worker) can be used and closed from any other, and the mount-wide gate that lets `close()` of the
 * mount wait for calls in flight.
 *
 * A handle is the index of a slot. Every field is written before the slot is published and read only while the
 * reader holds a use of the slot, so plain reads see them (Atomics operations order them in the JS memory model).
 *
 * Layout (bytes):
 *   header  0 i32 magic, 4 i32 capacity, 8 i32 mount gate (calls in flight | CLOSED bit), 12 i32 reserved
 *   slot i at 16 + 32·i:
 *     0 i32 state: 0 free; bit 0 set = open; the rest counts users (2 per use). An opener reserves a slot as 2
 *           (one use, not open); a closer clears the open bit and adds its own use, waits until only that use is
 *           left, releases the native objects and stores 0.
 *     4 i32 cursor lock (0 free, 1 held, 2 held with waiters): serialises seek+read of a directory and the
 *           save/restore of an O_APPEND pwrite
 *     8 i32 open flags, 12 i32 kind (1 file, 2 directory)
 *    16 f64 the native object: `Fh *` of a file, `struct ceph_dir_result *` of a directory
 *    24 f64 the `Inode *` whose reference the handle holds
 */
import { ERRNO, FsError } from "../../../../kernel/ipc/protocol/index.ts";
import { address, type Address } from "./libcephfs.ts";

const MAGIC = 0x43455048;
const HEADER_BYTES = 16;
const SLOT_BYTES = 32;
const GATE = 2;
const CLOSED = 1 << 30;
const OPEN_BIT = 1;
const USE = 2;

/** What an open handle refers to. */
export const HandleKind = { FILE: 1, DIRECTORY: 2 } as const;
/** A value of {@link HandleKind}. */
export type HandleKind = (typeof HandleKind)[keyof typeof HandleKind];

/** How long one Atomics.wait of a closer or a lock waiter lasts before it looks again, in ms. */
const WAIT_MS = 50;

/** The handle table over a SharedArrayBuffer made by {@link HandleTable.allocateBuffer}; one instance per thread. */
export class HandleTable {
  readonly capacity: number;
  private readonly words: Int32Array;
  private readonly pointers: Float64Array;

  /** A SharedArrayBuffer for a table of `capacity` handles (all free, the mount gate open). */
  static allocateBuffer(capacity: number): SharedArrayBuffer {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 24) {
      throw new RangeError(`handle table capacity ${capacity} must be an integer in [1, 2^24]`);
    }
    const buffer = new SharedArrayBuffer(HEADER_BYTES + capacity * SLOT_BYTES);
    const words = new Int32Array(buffer);
    words[0] = MAGIC;
    words[1] = capacity;
    return buffer;
  }

  /** Views `buffer`; throws TypeError when it is not a handle table. */
  constructor(buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
    this.pointers = new Float64Array(buffer);
    if (this.words[0] !== MAGIC) throw new TypeError("not a cephfs handle table (bad magic)");
    this.capacity = this.words[1]!;
  }

  // ---- the mount gate ----

  /** Counts a call in flight on the mount; throws FsError ENOTCONN once the mount is closing or closed. */
  enter(syscall: string): void {
    const before = Atomics.add(this.words, GATE, 1);
    if ((before & CLOSED) !== 0) {
      this.leave();
      throw new FsError(ERRNO.ENOTCONN, syscall);
    }
  }

  /** Ends a call counted by {@link enter}. */
  leave(): void {
    const after = Atomics.sub(this.words, GATE, 1) - 1;
    if ((after & CLOSED) !== 0) Atomics.notify(this.words, GATE);
  }

  /** True once {@link shut} ran. */
  get closed(): boolean {
    return (Atomics.load(this.words, GATE) & CLOSED) !== 0;
  }

  /** Refuses new calls (ENOTCONN) and waits until the calls in flight have left. Must not run inside a call. */
  shut(): void {
    Atomics.or(this.words, GATE, CLOSED);
    for (;;) {
      const value = Atomics.load(this.words, GATE);
      if (value === CLOSED) return;
      Atomics.wait(this.words, GATE, value, WAIT_MS);
    }
  }

  // ---- slots ----

  /** Reserves the lowest free slot (one use, not yet open) and returns it; FsError EMFILE when all are taken. */
  reserve(syscall: string): number {
    for (let handle = 0; handle < this.capacity; handle++) {
      const state = stateIndex(handle);
      if (Atomics.load(this.words, state) === 0 && Atomics.compareExchange(this.words, state, 0, USE) === 0) return handle;
    }
    throw new FsError(ERRNO.EMFILE, syscall);
  }

  /** Fills a reserved slot and opens it: from now on every thread may use `handle`. */
  publish(handle: number, kind: HandleKind, flags: number, object: Address, inode: Address): void {
    const word = stateIndex(handle);
    this.words[word + 2] = flags;
    this.words[word + 3] = kind;
    const pointer = pointerIndex(handle);
    this.pointers[pointer] = object;
    this.pointers[pointer + 1] = inode;
    Atomics.store(this.words, word, OPEN_BIT);
  }

  /** Frees a reserved slot that will not be published (the open failed). */
  abandon(handle: number): void {
    this.clear(handle);
  }

  /** Takes a use of an open handle (it cannot be closed until {@link release}); FsError EBADF if it is not open. */
  acquire(handle: number, syscall: string): void {
    if (!Number.isInteger(handle) || handle < 0 || handle >= this.capacity) throw new FsError(ERRNO.EBADF, syscall);
    const word = stateIndex(handle);
    for (;;) {
      const state = Atomics.load(this.words, word);
      if ((state & OPEN_BIT) === 0) throw new FsError(ERRNO.EBADF, syscall);
      if (Atomics.compareExchange(this.words, word, state, state + USE) === state) return;
    }
  }

  /** Gives back a use taken by {@link acquire}. */
  release(handle: number): void {
    const word = stateIndex(handle);
    const after = Atomics.sub(this.words, word, USE) - USE;
    if ((after & OPEN_BIT) === 0) Atomics.notify(this.words, word);
  }

  /**
   * Starts closing `handle`: no new use is granted (EBADF), and this returns once every other use is given back.
   * The caller then releases the native objects and calls {@link finishClose}. FsError EBADF if it is not open.
   */
  beginClose(handle: number, syscall: string): void {
    if (!Number.isInteger(handle) || handle < 0 || handle >= this.capacity) throw new FsError(ERRNO.EBADF, syscall);
    const word = stateIndex(handle);
    for (;;) {
      const state = Atomics.load(this.words, word);
      if ((state & OPEN_BIT) === 0) throw new FsError(ERRNO.EBADF, syscall);
      // Clear the open bit and add the closer's own use in one step: state - 1 + 2.
      if (Atomics.compareExchange(this.words, word, state, state + 1) === state) break;
    }
    for (;;) {
      const state = Atomics.load(this.words, word);
      if (state === USE) return;
      Atomics.wait(this.words, word, state, WAIT_MS);
    }
  }

  /** Frees a slot after {@link beginClose}; its number may be handed out again. */
  finishClose(handle: number): void {
    this.clear(handle);
  }

  /** The handles open right now (for closing them all when the mount goes away). */
  openHandles(): number[] {
    const open: number[] = [];
    for (let handle = 0; handle < this.capacity; handle++) {
      if ((Atomics.load(this.words, stateIndex(handle)) & OPEN_BIT) !== 0) open.push(handle);
    }
    return open;
  }

  /** The open flags of a handle the caller holds a use of. */
  flags(handle: number): number {
    return this.words[stateIndex(handle) + 2]!;
  }

  /** The kind of a handle the caller holds a use of. */
  kind(handle: number): HandleKind {
    return this.words[stateIndex(handle) + 3] as HandleKind;
  }

  /** The `Fh *` or `struct ceph_dir_result *` of a handle the caller holds a use of. */
  object(handle: number): Address {
    return address(this.pointers[pointerIndex(handle)]!);
  }

  /** The `Inode *` of a handle the caller holds a use of. */
  inode(handle: number): Address {
    return address(this.pointers[pointerIndex(handle) + 1]!);
  }

  /** Runs `body` holding the handle's cursor lock (the caller holds a use of the handle). */
  withCursor<T>(handle: number, body: () => T): T {
    const lock = stateIndex(handle) + 1;
    // A three-state futex mutex: a waiter marks the lock contended (2) so that the holder knows to notify.
    let seen = Atomics.compareExchange(this.words, lock, 0, 1);
    if (seen !== 0) {
      if (seen !== 2) seen = Atomics.exchange(this.words, lock, 2);
      while (seen !== 0) {
        Atomics.wait(this.words, lock, 2, WAIT_MS);
        seen = Atomics.exchange(this.words, lock, 2);
      }
    }
    try {
      return body();
    } finally {
      if (Atomics.sub(this.words, lock, 1) !== 1) {
        Atomics.store(this.words, lock, 0);
        Atomics.notify(this.words, lock, 1);
      }
    }
  }

  private clear(handle: number): void {
    const word = stateIndex(handle);
    this.words[word + 1] = 0;
    this.words[word + 2] = 0;
    this.words[word + 3] = 0;
    const pointer = pointerIndex(handle);
    this.pointers[pointer] = 0;
    this.pointers[pointer + 1] = 0;
    Atomics.store(this.words, word, 0);
  }
}

/** Int32 index of a slot's state word. */
function stateIndex(handle: number): number {
  return (HEADER_BYTES + handle * SLOT_BYTES) / 4;
}

/** Float64 index of a slot's object pointer (the inode pointer follows it). */
function pointerIndex(handle: number): number {
  return (HEADER_BYTES + handle * SLOT_BYTES + 16) / 8;
}
