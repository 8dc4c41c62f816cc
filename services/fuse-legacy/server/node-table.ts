/**
 * @module node-table — the kernel's node ids mapped to names of the served FileSystem, with the kernel's lookup
 * counts, in a SharedArrayBuffer so every serving Worker of a mount answers from the same table.
 *
 * A node is a (parent node, name) pair, so a rename moves a whole subtree by changing one slot. A node id is
 * `seq × capacity + slot`: a slot's `seq` grows each time the slot is reused (or a forgotten node is looked up
 * again), so the kernel never sees a node id that named something else before. The root is node 1 (slot 1, seq 0).
 * All access goes through one futex-style lock in the buffer; an operation holds it for microseconds.
 *
 * A node the kernel forgot is kept (as a zombie) while nodes under it still are known, so their paths still resolve.
 * A node that was unlinked, or replaced by a rename, keeps its id but has no path ({@link NodeTable.path} answers
 * undefined: ESTALE); it goes away at its last FORGET.
 */
import { bytesToName, ERRNO, FsError, writeName } from "../../ipc-router/protocol/index.ts";
import { FUSE_ROOT_ID } from "../protocol/index.ts";

/** Nodes a mount's table holds by default (the kernel's dentry cache rarely holds more for one mount). */
export const DEFAULT_MAX_NODES = 1 << 17;
/** Longest name a node can have (NAME_MAX). */
const NAME_BYTES = 256;
/** Handles remembered per node, to stat a node whose name is gone through one of its open files. */
const HANDLES_PER_NODE = 4;

// Header words.
const LOCK = 0;
const LIVE = 1;
const FREE_HEAD = 2;
const NEXT_FRESH = 3;
const TOMBSTONES = 4;
const HEADER_WORDS = 8;

// Slot words.
const SEQ = 0;
/** 0 free, 1 known by the kernel, 2 forgotten but kept for its children. */
const STATE = 1;
const LOOKUPS = 2;
/** Parent slot; DETACHED when the name is gone, NO_PARENT for the root. */
const PARENT = 3;
const CHILDREN = 4;
const NAME_LENGTH = 5;
const NEXT_FREE = 6;
const SLOT_WORDS = 8;

const FREE = 0;
const KNOWN = 1;
const ZOMBIE = 2;
const DETACHED = -1;
const NO_PARENT = -2;
const ROOT_SLOT = FUSE_ROOT_ID;
/** Index cell values: 0 empty, TOMBSTONE deleted, else slot + 1. */
const TOMBSTONE = -1;

/** Names are byte strings (see names.ts in the protocol): stored and compared byte for byte. */
const decoder = { decode: (bytes: Uint8Array) => bytesToName(bytes) };
/** Scratch for the (at most two) names of one call, written in place: an `encode` per call leaves garbage only a full collection frees. */
const nameScratch = [new Uint8Array(4 * NAME_BYTES), new Uint8Array(4 * NAME_BYTES)] as const;

/** `name`'s bytes in scratch buffer `which` (valid until the next call with it); a name too long for the scratch comes back with its length past NAME_MAX. */
function nameBytes(name: string, which: 0 | 1 = 0): Uint8Array {
  const scratch = nameScratch[which];
  const written = writeName(name, scratch);
  return written < 0 ? scratch : scratch.subarray(0, written);
}

/** Joins a directory path and one name ("/" + "a" → "/a"). */
export function childPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

/** The byte layout of a table of `capacity` nodes. */
function layout(capacity: number) {
  const indexCells = capacity * 2;
  const wordsBytes = (HEADER_WORDS + capacity * SLOT_WORDS + indexCells) * 4;
  const handlesAt = Math.ceil(wordsBytes / 8) * 8;
  const namesAt = handlesAt + capacity * HANDLES_PER_NODE * 8;
  return { indexCells, wordsBytes, handlesAt, namesAt, size: namesAt + capacity * NAME_BYTES };
}

/**
 * Node id ↔ name table of one mount, shared by the serving Workers: create the buffer once with
 * {@link NodeTable.allocate} and a `NodeTable` over it in every thread.
 */
export class NodeTable {
  private readonly words: Int32Array;
  private readonly handles: Float64Array;
  private readonly names: Uint8Array;
  private readonly capacity: number;
  private readonly slots: number;
  private readonly index: number;
  private readonly indexMask: number;

  /** A buffer for a table of `capacity` nodes (a power of two ≥ 8), the root already in it. */
  static allocate(capacity = DEFAULT_MAX_NODES): SharedArrayBuffer {
    if (!Number.isInteger(Math.log2(capacity)) || capacity < 8) throw new RangeError(`node table capacity ${capacity} is not a power of two ≥ 8`);
    const shared = new SharedArrayBuffer(layout(capacity).size);
    const words = new Int32Array(shared, 0, HEADER_WORDS + capacity * SLOT_WORDS);
    const root = HEADER_WORDS + ROOT_SLOT * SLOT_WORDS;
    words[root + STATE] = KNOWN;
    words[root + LOOKUPS] = 1;
    words[root + PARENT] = NO_PARENT;
    words[LIVE] = 1;
    words[FREE_HEAD] = -1;
    words[NEXT_FRESH] = ROOT_SLOT + 1;
    return shared;
  }

  /** A view of `shared` (from {@link allocate}); without it, a private table of the default capacity. */
  constructor(shared: SharedArrayBuffer = NodeTable.allocate()) {
    let capacity = 8;
    while (layout(capacity * 2).size <= shared.byteLength) capacity *= 2;
    if (layout(capacity).size !== shared.byteLength) throw new RangeError("not a node table buffer");
    const shape = layout(capacity);
    this.capacity = capacity;
    this.words = new Int32Array(shared, 0, shape.wordsBytes / 4);
    this.handles = new Float64Array(shared, shape.handlesAt, capacity * HANDLES_PER_NODE);
    this.names = new Uint8Array(shared, shape.namesAt, capacity * NAME_BYTES);
    this.slots = HEADER_WORDS;
    this.index = HEADER_WORDS + capacity * SLOT_WORDS;
    this.indexMask = shape.indexCells - 1;
  }

  /** The path of `nodeid`, or undefined when the kernel names a node that is unknown, forgotten or unlinked (ESTALE). */
  path(nodeid: number): string | undefined {
    return this.locked(() => {
      const slot = this.slotOf(nodeid);
      return slot < 0 ? undefined : this.pathOfSlot(slot);
    });
  }

  /** How many nodes the kernel holds (the root included); for tests and metrics. */
  get size(): number {
    return Atomics.load(this.words, LIVE);
  }

  /** The kernel's lookup count of `nodeid` (0 when unknown). */
  lookups(nodeid: number): number {
    return this.locked(() => {
      const slot = this.slotOf(nodeid);
      return slot < 0 ? 0 : this.words[this.at(slot) + LOOKUPS]!;
    });
  }

  /** The node id the kernel holds for `name` in directory `parent`, if any. */
  child(parent: number, name: string): number | undefined {
    return this.locked(() => {
      const parentSlot = this.slotOf(parent);
      if (parentSlot < 0) return undefined;
      const slot = this.find(parentSlot, nameBytes(name));
      return slot >= 0 && this.words[this.at(slot) + STATE] === KNOWN ? this.idOf(slot) : undefined;
    });
  }

  /**
   * Records one more kernel reference to `name` in `parent` (a LOOKUP, CREATE, MKDIR... reply); returns its node id.
   * Throws FsError ESTALE when `parent` is unknown, ENAMETOOLONG for a name over 255 bytes, ENFILE when the table is full.
   */
  remember(parent: number, name: string): number {
    const bytes = nameBytes(name);
    if (bytes.length >= NAME_BYTES) throw new FsError(ERRNO.ENAMETOOLONG, "lookup", name);
    return this.locked(() => {
      const parentSlot = this.slotOf(parent);
      if (parentSlot < 0 || this.pathOfSlot(parentSlot) === undefined) throw new FsError(ERRNO.ESTALE, "lookup", name);
      const w = this.words;
      const found = this.find(parentSlot, bytes);
      if (found >= 0) {
        const at = this.at(found);
        if (w[at + STATE] === ZOMBIE) {
          // The kernel forgot this node: it gets a fresh id.
          w[at + SEQ]!++;
          w[at + STATE] = KNOWN;
          w[at + LOOKUPS] = 0;
          w[LIVE]!++;
        }
        w[at + LOOKUPS]!++;
        return this.idOf(found);
      }
      const slot = this.allocateSlot();
      if (slot < 0) throw new FsError(ERRNO.ENFILE, "lookup", name);
      const at = this.at(slot);
      w[at + STATE] = KNOWN;
      w[at + LOOKUPS] = 1;
      w[at + CHILDREN] = 0;
      this.handles.fill(-1, slot * HANDLES_PER_NODE, (slot + 1) * HANDLES_PER_NODE);
      this.attach(slot, parentSlot, bytes);
      w[LIVE]!++;
      return this.idOf(slot);
    });
  }

  /** FORGET: drops `count` references of `nodeid`; the node goes away at zero. The root is never dropped. */
  forget(nodeid: number, count: number): void {
    if (nodeid === FUSE_ROOT_ID) return;
    this.locked(() => {
      const slot = this.slotOf(nodeid);
      if (slot < 0) return;
      const at = this.at(slot);
      this.words[at + LOOKUPS] = Math.max(0, this.words[at + LOOKUPS]! - count);
      if (this.words[at + LOOKUPS]! > 0) return;
      this.words[at + STATE] = ZOMBIE;
      this.words[LIVE]!--;
      this.collect(slot);
    });
  }

  /** The name `name` in `parent` was removed (UNLINK, RMDIR): its node, if any, keeps its id but no longer has a path. */
  removed(parent: number, name: string): void {
    this.locked(() => {
      const parentSlot = this.slotOf(parent);
      if (parentSlot >= 0) this.detachName(parentSlot, nameBytes(name));
    });
  }

  /** A successful rename: a node at the new name is replaced; the old name's node (and what is under it) moves. */
  renamed(parent: number, name: string, newParent: number, newName: string): void {
    this.locked(() => {
      const from = this.slotOf(parent);
      const to = this.slotOf(newParent);
      if (from < 0 || to < 0) return;
      const fromName = nameBytes(name, 0);
      const toName = nameBytes(newName, 1);
      const moving = this.find(from, fromName);
      if (moving >= 0 && from === to && this.sameName(moving, toName)) return;
      this.detachName(to, toName);
      if (moving < 0) return;
      this.detach(moving);
      this.attach(moving, to, toName);
      this.collect(from);
    });
  }

  /** A successful RENAME_EXCHANGE: the two names swap their nodes (and what is under them). */
  exchanged(parent: number, name: string, newParent: number, newName: string): void {
    this.locked(() => {
      const a = this.slotOf(parent);
      const b = this.slotOf(newParent);
      if (a < 0 || b < 0) return;
      const aName = nameBytes(name, 0);
      const bName = nameBytes(newName, 1);
      const first = this.find(a, aName);
      const second = this.find(b, bName);
      if (first >= 0) this.detach(first);
      if (second >= 0) this.detach(second);
      if (first >= 0) this.attach(first, b, bName);
      if (second >= 0) this.attach(second, a, aName);
      this.collect(a);
      this.collect(b);
    });
  }

  /** File handle `fh` was opened on `nodeid` (remembered to stat the node once its name is gone). */
  opened(nodeid: number, fh: number): void {
    this.locked(() => {
      const slot = this.slotOf(nodeid);
      if (slot < 0) return;
      const base = slot * HANDLES_PER_NODE;
      for (let i = 0; i < HANDLES_PER_NODE; i++) {
        if (this.handles[base + i] === -1) {
          this.handles[base + i] = fh;
          return;
        }
      }
    });
  }

  /** File handle `fh` of `nodeid` was released. */
  released(nodeid: number, fh: number): void {
    this.locked(() => {
      const slot = this.slotOf(nodeid);
      if (slot < 0) return;
      const base = slot * HANDLES_PER_NODE;
      for (let i = 0; i < HANDLES_PER_NODE; i++) if (this.handles[base + i] === fh) this.handles[base + i] = -1;
    });
  }

  /** An open file handle of `nodeid`, if one is remembered. */
  openHandle(nodeid: number): number | undefined {
    return this.locked(() => {
      const slot = this.slotOf(nodeid);
      if (slot < 0) return undefined;
      const base = slot * HANDLES_PER_NODE;
      for (let i = 0; i < HANDLES_PER_NODE; i++) if (this.handles[base + i]! >= 0) return this.handles[base + i];
      return undefined;
    });
  }

  // ——— inside the lock ———

  private locked<T>(body: () => T): T {
    const w = this.words;
    if (Atomics.compareExchange(w, LOCK, 0, 1) !== 0) {
      // 0 free, 1 held, 2 held with waiters (the classic three-state futex mutex).
      let state = Atomics.exchange(w, LOCK, 2);
      while (state !== 0) {
        Atomics.wait(w, LOCK, 2);
        state = Atomics.exchange(w, LOCK, 2);
      }
    }
    try {
      return body();
    } finally {
      if (Atomics.exchange(w, LOCK, 0) === 2) Atomics.notify(w, LOCK, 1);
    }
  }

  private at(slot: number): number {
    return this.slots + slot * SLOT_WORDS;
  }

  private idOf(slot: number): number {
    return this.words[this.at(slot) + SEQ]! * this.capacity + slot;
  }

  /** The slot of a node the kernel holds, or -1. */
  private slotOf(nodeid: number): number {
    if (!Number.isSafeInteger(nodeid) || nodeid <= 0) return -1;
    const slot = nodeid % this.capacity;
    const seq = Math.floor(nodeid / this.capacity);
    if (slot === 0) return -1;
    const at = this.at(slot);
    return this.words[at + STATE] === KNOWN && this.words[at + SEQ] === seq ? slot : -1;
  }

  private pathOfSlot(slot: number): string | undefined {
    const parts: string[] = [];
    let at = this.at(slot);
    for (let depth = 0; slot !== ROOT_SLOT; depth++) {
      const parent = this.words[at + PARENT]!;
      if (parent < 0 || depth > this.capacity) return undefined;
      const start = slot * NAME_BYTES;
      parts.push(decoder.decode(this.names.slice(start, start + this.words[at + NAME_LENGTH]!)));
      slot = parent;
      at = this.at(slot);
    }
    return parts.length === 0 ? "/" : `/${parts.reverse().join("/")}`;
  }

  private hash(parent: number, name: Uint8Array): number {
    let h = (0x811c9dc5 ^ parent) >>> 0;
    for (const byte of name) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
    return h;
  }

  private sameName(slot: number, name: Uint8Array): boolean {
    if (this.words[this.at(slot) + NAME_LENGTH] !== name.length) return false;
    const start = slot * NAME_BYTES;
    for (let i = 0; i < name.length; i++) if (this.names[start + i] !== name[i]) return false;
    return true;
  }

  /** The attached slot named `name` in `parent` (known or zombie), or -1. */
  private find(parent: number, name: Uint8Array): number {
    const w = this.words;
    for (let i = this.hash(parent, name) & this.indexMask, probes = 0; probes <= this.indexMask; i = (i + 1) & this.indexMask, probes++) {
      const cell = w[this.index + i]!;
      if (cell === 0) return -1;
      if (cell === TOMBSTONE) continue;
      const slot = cell - 1;
      if (w[this.at(slot) + PARENT] === parent && this.sameName(slot, name)) return slot;
    }
    return -1;
  }

  /** Gives `slot` the name `name` in `parent` and indexes it. */
  private attach(slot: number, parent: number, name: Uint8Array): void {
    const w = this.words;
    const at = this.at(slot);
    this.names.set(name, slot * NAME_BYTES);
    w[at + NAME_LENGTH] = name.length;
    w[at + PARENT] = parent;
    w[this.at(parent) + CHILDREN]!++;
    for (let i = this.hash(parent, name) & this.indexMask; ; i = (i + 1) & this.indexMask) {
      const cell = w[this.index + i]!;
      if (cell === 0 || cell === TOMBSTONE) {
        if (cell === TOMBSTONE) w[TOMBSTONES]!--;
        w[this.index + i] = slot + 1;
        return;
      }
    }
  }

  /** Takes `slot`'s name away (out of the index, off its parent's count); the caller frees or re-attaches it. */
  private detach(slot: number): void {
    const w = this.words;
    const at = this.at(slot);
    const parent = w[at + PARENT]!;
    if (parent < 0) return;
    const start = slot * NAME_BYTES;
    const name = this.names.subarray(start, start + w[at + NAME_LENGTH]!);
    for (let i = this.hash(parent, name) & this.indexMask; ; i = (i + 1) & this.indexMask) {
      const cell = w[this.index + i]!;
      if (cell === 0) break;
      if (cell === slot + 1) {
        w[this.index + i] = TOMBSTONE;
        w[TOMBSTONES]!++;
        break;
      }
    }
    w[at + PARENT] = DETACHED;
    w[this.at(parent) + CHILDREN]!--;
    if (w[TOMBSTONES]! > this.capacity / 2) this.rebuildIndex();
  }

  /** The node named `name` in `parent`, if any, loses its name (unlinked, or replaced by a rename). */
  private detachName(parent: number, name: Uint8Array): void {
    const slot = this.find(parent, name);
    if (slot < 0) return;
    this.detach(slot);
    this.collect(slot);
    this.collect(parent);
  }

  /** Frees `slot` (and then its parent, and so on) when the kernel holds it no more and no node is under it. */
  private collect(slot: number): void {
    const w = this.words;
    while (slot > ROOT_SLOT) {
      const at = this.at(slot);
      if (w[at + STATE] === KNOWN || w[at + CHILDREN]! > 0 || w[at + STATE] === FREE) return;
      const parent = w[at + PARENT]!;
      this.detach(slot);
      w[at + STATE] = FREE;
      w[at + SEQ]!++;
      w[at + NEXT_FREE] = w[FREE_HEAD]!;
      w[FREE_HEAD] = slot;
      if (parent < 0) return;
      slot = parent;
    }
  }

  private allocateSlot(): number {
    const w = this.words;
    const free = w[FREE_HEAD]!;
    if (free >= 0) {
      w[FREE_HEAD] = w[this.at(free) + NEXT_FREE]!;
      return free;
    }
    if (w[NEXT_FRESH]! >= this.capacity) return -1;
    const slot = w[NEXT_FRESH]!++;
    w[this.at(slot) + SEQ] = 1;
    return slot;
  }

  /** Re-indexes every attached slot, dropping the tombstones. */
  private rebuildIndex(): void {
    const w = this.words;
    w.fill(0, this.index, this.index + this.indexMask + 1);
    w[TOMBSTONES] = 0;
    for (let slot = ROOT_SLOT + 1; slot < w[NEXT_FRESH]!; slot++) {
      const at = this.at(slot);
      const parent = w[at + PARENT]!;
      if (w[at + STATE] === FREE || parent < 0) continue;
      const start = slot * NAME_BYTES;
      const name = this.names.subarray(start, start + w[at + NAME_LENGTH]!);
      for (let i = this.hash(parent, name) & this.indexMask; ; i = (i + 1) & this.indexMask) {
        if (w[this.index + i] === 0) {
          w[this.index + i] = slot + 1;
          break;
        }
      }
    }
  }
}
