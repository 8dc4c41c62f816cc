/**
 * @module node-table — the kernel's node ids mapped to names of the served FileSystem, with the kernel's lookup
 * counts, in a SharedArrayBuffer so every serving Worker of a mount answers from the same table.
 *
 * Each name the kernel knows has a slot: a (parent directory slot, name) pair, so a rename moves a whole subtree by
 * changing one slot. A node is a file: every name of one file (the same `st_dev`/`st_ino`, as the FileSystem's lstat
 * tells) is one node for the kernel, so hard links share one kernel inode (one set of cached attributes, one link
 * count). The node lives in the slot of the name it was first known by (its representative); the other names are
 * alias slots in a ring through it, and an inode index maps (st_dev, st_ino) to the representative. A node id is
 * `seq × capacity + slot` of the representative: a slot's `seq` grows each time the slot is reused (or a forgotten
 * node is looked up again), so the kernel never sees a node id that named something else before (generation 0
 * suffices). The root is node 1 (slot 1, seq 0). All access goes through one futex-style lock in the buffer; an
 * operation holds it for microseconds.
 *
 * {@link NodeTable.path} answers any name of the node still attached (the representative's own first). Lookup
 * counts and FORGET are the node's; at its last FORGET its alias slots are freed with it. A node the kernel forgot is
 * kept (as a zombie) while nodes under it still are known, so their paths still resolve. A name that was unlinked,
 * or replaced by a rename, leaves its node; a node with no name left keeps its id but has no path (ESTALE) and leaves
 * the inode index (a reused inode number then gets a fresh node); it goes away at its last FORGET.
 *
 * Identity rules when a name's lstat shows another inode than the table recorded (the union copies a file up and the
 * upper copy has its own st_ino; a program outside the kernel path replaced the name): a directory keeps its node
 * (directories are known by name only, never joined: they have one name); a name of another file type, or whose new
 * inode is another node's, leaves its node (which keeps its other names) and takes the right one; otherwise (the same
 * type, an inode no node has) a node of that one name is re-keyed to the new inode and keeps its id, as an overlay
 * filesystem's inode survives copy-up. A regular file's node with other names follows with all of them too (the union
 * copies a hard-linked lower file up as one file, so every name shows the new inode), and so does a node whose own
 * GETATTR, SETATTR, open for writing or rename shows a new inode ({@link NodeTable.followed}): the kernel keeps one
 * inode for the file through names it has not looked up again. A name of a node of another type with other names (a
 * symlink, which the union copies up name by name) leaves it for a new node.
 */
import { bytesToName, ERRNO, FsError, S_IFDIR, S_IFMT, S_IFREG, writeName } from "../../../kernel/ipc/protocol/index.ts";
import { withThreadLock } from "../../../kernel/ipc/ring/index.ts";
import { FUSE_ROOT_ID } from "../protocol/index.ts";

/** Nodes a mount's table holds by default (the kernel's dentry cache rarely holds more for one mount). */
export const DEFAULT_MAX_NODES = 1 << 17;
/** Longest name a node can have (NAME_MAX). */
const NAME_BYTES = 256;
/** Handles remembered per node, to stat a node whose name is gone through one of its open files. */
const HANDLES_PER_NODE = 4;

/** Which file: its device and inode numbers. */
export interface FileKey {
  readonly st_dev: number;
  readonly st_ino: number;
}

/** What the table needs of a name's lstat to tell which file it is (a {@link Stat} fits). */
export interface NodeKey extends FileKey {
  readonly st_mode: number;
}

// Header words.
const LOCK = 0;
const LIVE = 1;
const FREE_HEAD = 2;
const NEXT_FRESH = 3;
const TOMBSTONES = 4;
const KEY_TOMBSTONES = 5;
const HEADER_WORDS = 8;

// Slot words.
const SEQ = 0;
/** 0 free, 1 a node known by the kernel, 2 forgotten but kept for its children, 3 another name of a node. */
const STATE = 1;
const LOOKUPS = 2;
/** Parent slot; DETACHED when the name is gone, NO_PARENT for the root. */
const PARENT = 3;
const CHILDREN = 4;
const NAME_LENGTH = 5;
const NEXT_FREE = 6;
/** The node (representative slot) this name is of; the slot itself for a representative. */
const NODE = 7;
/** The next slot in the ring of the node's names (the slot itself when alone). */
const RING = 8;
/** The file type (S_IFMT bits) the name was last seen with; 0 unknown (never stat'ed). */
const TYPE = 9;
/** 1 while the node is in the inode index. */
const KEYED = 10;
const SLOT_WORDS = 12;

const FREE = 0;
const KNOWN = 1;
const ZOMBIE = 2;
const ALIAS = 3;
const DETACHED = -1;
const NO_PARENT = -2;
const ROOT_SLOT = FUSE_ROOT_ID;
/** Index cell values: 0 empty, TOMBSTONE deleted, else slot + 1. */
const TOMBSTONE = -1;

/** Names are byte strings (see names.ts in the protocol): stored and compared byte for byte. */
const decoder = { decode: (bytes: Uint8Array) => bytesToName(bytes) };
/**
 * Scratch for the (at most two) names of one call, and the names of a path being resolved, written in place: an
 * `encode` per call leaves garbage only a full collection frees.
 */
const nameScratch = [new Uint8Array(4 * NAME_BYTES), new Uint8Array(4 * NAME_BYTES), new Uint8Array(4 * NAME_BYTES)] as const;

/** `name`'s bytes in scratch buffer `which` (valid until the next call with it); a name too long for the scratch comes back with its length past NAME_MAX. */
function nameBytes(name: string, which: 0 | 1 | 2 = 0): Uint8Array {
  const scratch = nameScratch[which];
  const written = writeName(name, scratch);
  return written < 0 ? scratch : scratch.subarray(0, written);
}

/** Joins a directory path and one name ("/" + "a" → "/a"). */
export function childPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

/** The names of `path` (a byte string) from the mount's root: "." and empty names dropped, ".." taken lexically. */
export function pathNames(path: string): string[] {
  const names: string[] = [];
  for (const name of path.split("/")) {
    if (name === "" || name === ".") continue;
    if (name === "..") names.pop();
    else names.push(name);
  }
  return names;
}

/** The byte layout of a table of `capacity` nodes. */
function layout(capacity: number) {
  const indexCells = capacity * 2;
  const wordsBytes = (HEADER_WORDS + capacity * SLOT_WORDS + 2 * indexCells) * 4;
  const handlesAt = Math.ceil(wordsBytes / 8) * 8;
  const keysAt = handlesAt + capacity * HANDLES_PER_NODE * 8;
  const namesAt = keysAt + capacity * 2 * 8;
  return { indexCells, wordsBytes, handlesAt, keysAt, namesAt, size: namesAt + capacity * NAME_BYTES };
}

/**
 * Node id ↔ name table of one mount, shared by the serving Workers: create the buffer once with
 * {@link NodeTable.allocate} and a `NodeTable` over it in every thread.
 */
export class NodeTable {
  private readonly words: Int32Array;
  private readonly handles: Float64Array;
  /** Per slot: st_dev, st_ino of the file the name was last seen naming. */
  private readonly keys: Float64Array;
  private readonly names: Uint8Array;
  private readonly capacity: number;
  private readonly slots: number;
  /** The (parent, name) index, then the (st_dev, st_ino) index, `indexMask + 1` cells each. */
  private readonly index: number;
  private readonly keyIndex: number;
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
    words[root + NODE] = ROOT_SLOT;
    words[root + RING] = ROOT_SLOT;
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
    this.keys = new Float64Array(shared, shape.keysAt, capacity * 2);
    this.names = new Uint8Array(shared, shape.namesAt, capacity * NAME_BYTES);
    this.slots = HEADER_WORDS;
    this.index = HEADER_WORDS + capacity * SLOT_WORDS;
    this.keyIndex = this.index + shape.indexCells;
    this.indexMask = shape.indexCells - 1;
  }

  /**
   * A path of `nodeid`: its first name if still attached, else another name of the same file the kernel knows; undefined
   * when the kernel names a node that is unknown, forgotten or has no name left (ESTALE).
   */
  path(nodeid: number): string | undefined {
    return this.locked(() => {
      const slot = this.slotOf(nodeid);
      if (slot < 0) return undefined;
      let name = slot;
      do {
        const path = this.pathOfSlot(name);
        if (path !== undefined) return path;
        name = this.words[this.at(name) + RING]!;
      } while (name !== slot);
      return undefined;
    });
  }

  /** The node id the kernel holds for the file with `st_dev` `dev` and `st_ino` `ino` (not a directory), if any. */
  nodeOfInode(dev: number, ino: number): number | undefined {
    return this.locked(() => {
      const node = this.nodeOfKey({ st_dev: dev, st_ino: ino, st_mode: 0 });
      return node >= 0 && this.words[this.at(node) + STATE] === KNOWN ? this.idOf(node) : undefined;
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

  /**
   * The node id the kernel holds for `name` in directory `parent`, if any (every name of one file gives the same);
   * with `type` (an S_IFMT value), only a node known to be of that type.
   */
  child(parent: number, name: string, type?: number): number | undefined {
    return this.locked(() => {
      const parentSlot = this.slotOf(parent);
      if (parentSlot < 0) return undefined;
      const slot = this.find(parentSlot, nameBytes(name));
      if (slot < 0) return undefined;
      const node = this.words[this.at(slot) + NODE]!;
      if (type !== undefined && this.words[this.at(node) + TYPE] !== type) return undefined;
      return this.words[this.at(node) + STATE] === KNOWN ? this.idOf(node) : undefined;
    });
  }

  /**
   * Records one more kernel reference to `name` in `parent` (a LOOKUP, CREATE, MKDIR... reply) whose lstat is `key`;
   * returns its node id, the same for every name of one file (see the module's identity rules). Without `key` the name
   * is its own node. Throws FsError ESTALE when `parent` is unknown, ENAMETOOLONG for a name over
   * 255 bytes, ENFILE when the table is full.
   */
  remember(parent: number, name: string, key?: NodeKey): number {
    const bytes = nameBytes(name);
    if (bytes.length >= NAME_BYTES) throw new FsError(ERRNO.ENAMETOOLONG, "lookup", name);
    return this.locked(() => this.rememberName(parent, name, bytes, key));
  }

  /**
   * A LINK reply: the new name `name` in `parent` (whose lstat is `key`) of node `nodeid` counts one more reference of
   * that node and answers its id. When the link gave the file a new inode (the union copies a lower file up to link
   * it), a node of one name is re-keyed first, so the new name still joins it. Throws as {@link remember}.
   */
  linked(nodeid: number, parent: number, name: string, key: NodeKey): number {
    const bytes = nameBytes(name);
    if (bytes.length >= NAME_BYTES) throw new FsError(ERRNO.ENAMETOOLONG, "link", name);
    return this.locked(() => {
      const slot = this.slotOf(nodeid);
      if (slot >= 0 && this.words[this.at(slot) + TYPE] === (key.st_mode & S_IFMT)) this.follow(slot, key);
      return this.rememberName(parent, name, bytes, key, slot);
    });
  }

  /**
   * A GETATTR or SETATTR answer: node `nodeid`'s file is now `key`. A file that got a new inode no node has (a union
   * copy-up through a name, a truncate, a chmod) keeps its node, re-keyed with its names (see {@link follow}), so a
   * later lookup of any of them finds it.
   */
  followed(nodeid: number, key: NodeKey): void {
    this.locked(() => {
      const slot = this.slotOf(nodeid);
      if (slot < 0) return;
      const type = this.words[this.at(slot) + TYPE];
      if (type !== (key.st_mode & S_IFMT) || type === S_IFDIR) return;
      if (this.keys[slot * 2] === key.st_dev && this.keys[slot * 2 + 1] === key.st_ino) return;
      this.follow(slot, key);
    });
  }

  /** FORGET: drops `count` references of `nodeid`; the node (with all its names) goes away at zero. The root is never dropped. */
  forget(nodeid: number, count: number): void {
    if (nodeid === FUSE_ROOT_ID) return;
    this.locked(() => {
      const slot = this.slotOf(nodeid);
      if (slot < 0) return;
      const w = this.words;
      const at = this.at(slot);
      w[at + LOOKUPS] = Math.max(0, w[at + LOOKUPS]! - count);
      if (w[at + LOOKUPS]! > 0) return;
      while (w[at + RING] !== slot) this.freeAlias(w[at + RING]!);
      this.unindexKey(slot);
      w[at + STATE] = ZOMBIE;
      w[LIVE]!--;
      this.collect(slot);
    });
  }

  /** The name `name` in `parent` was removed (UNLINK, RMDIR): its node keeps its other names; a node with none left keeps its id but no longer has a path. */
  removed(parent: number, name: string): void {
    this.locked(() => {
      const parentSlot = this.slotOf(parent);
      if (parentSlot >= 0) this.detachName(parentSlot, nameBytes(name));
    });
  }

  /**
   * A successful rename: a node at the new name loses that name; the old name (and what is under it) moves. Answers
   * true when the table left both names because they are one node: rename(2) of two names of one file does nothing —
   * or the new name joined the moving node in a LOOKUP that came between the rename and this call (a kernel
   * revalidating a dentry does not wait for the directory's lock), and then the old name is gone: the caller checks
   * and tells {@link removed}.
   */
  renamed(parent: number, name: string, newParent: number, newName: string): boolean {
    return this.locked(() => {
      const from = this.slotOf(parent);
      const to = this.slotOf(newParent);
      if (from < 0 || to < 0) return false;
      const fromName = nameBytes(name, 0);
      const toName = nameBytes(newName, 1);
      const moving = this.find(from, fromName);
      if (moving >= 0 && from === to && this.sameName(moving, toName)) return false;
      const replaced = this.find(to, toName);
      if (moving >= 0 && replaced >= 0 && this.words[this.at(moving) + NODE] === this.words[this.at(replaced) + NODE]) return true;
      this.detachName(to, toName);
      if (moving < 0) return false;
      this.detach(moving);
      this.attach(moving, to, toName);
      this.collect(from);
      return false;
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

  /**
   * The node id the kernel holds for the directory at `parts` (the names of a path from the mount's root, [] for the
   * root), if it holds one: directories are known by name.
   */
  directory(parts: readonly string[]): number | undefined {
    return this.locked(() => {
      const slot = this.resolve(parts);
      return slot >= 0 && this.words[this.at(slot) + STATE] === KNOWN && this.isDirectory(slot) ? this.idOf(slot) : undefined;
    });
  }

  /**
   * A name change the kernel did not make (through the user-level path): the name at `parts` no longer names the file
   * `key`. If the table still has that name for that file, the name goes, as at an UNLINK; a name the kernel has
   * looked up again since (another file now) stays.
   */
  vanished(parts: readonly string[], key: FileKey): void {
    if (parts.length === 0) return;
    this.locked(() => {
      const parent = this.resolve(parts.slice(0, -1));
      const name = nameBytes(parts.at(-1)!, 1);
      const slot = parent < 0 ? -1 : this.find(parent, name);
      if (slot >= 0 && this.namesFile(slot, key)) this.detachName(parent, name);
    });
  }

  /**
   * A rename the kernel did not make: the name at `from`, if the table still has it for the file `key`, moves to `to`
   * (what is under it with it), as at a RENAME; a name at `to` of another file goes. When the table does not know
   * `to`'s directory, the old name just goes.
   */
  moved(from: readonly string[], to: readonly string[], key: FileKey): void {
    if (from.length === 0 || to.length === 0) return;
    this.locked(() => {
      const fromParent = this.resolve(from.slice(0, -1));
      const fromName = nameBytes(from.at(-1)!, 0);
      const moving = fromParent < 0 ? -1 : this.find(fromParent, fromName);
      const toParent = this.resolve(to.slice(0, -1));
      const toName = nameBytes(to.at(-1)!, 1);
      const replaced = toParent < 0 ? -1 : this.find(toParent, toName);
      if (replaced >= 0 && !this.namesFile(replaced, key)) this.detachName(toParent, toName);
      if (moving < 0 || !this.namesFile(moving, key)) return;
      if (toParent < 0 || this.find(toParent, toName) >= 0) {
        this.detachName(fromParent, fromName);
        return;
      }
      this.detach(moving);
      this.attach(moving, toParent, toName);
      this.collect(fromParent);
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
    return withThreadLock(this.words, LOCK, body);
  }

  /** {@link remember} inside the lock, `bytes` being `name` encoded; a new name joins node `into` when that is ≥ 0. */
  private rememberName(parent: number, name: string, bytes: Uint8Array, key: NodeKey | undefined, into = -1): number {
    const parentSlot = this.slotOf(parent);
    if (parentSlot < 0 || this.pathOfSlot(parentSlot) === undefined) throw new FsError(ERRNO.ESTALE, "lookup", name);
    const w = this.words;
    let found = this.find(parentSlot, bytes);
    const elsewhere = found >= 0 && into >= 0 && w[this.at(found) + NODE] !== into;
    if (found >= 0 && key !== undefined && (elsewhere || !this.stillNames(found, key))) {
      this.detachName(parentSlot, bytes);
      found = -1;
    }
    if (found >= 0) {
      const node = w[this.at(found) + NODE]!;
      const at = this.at(node);
      if (w[at + STATE] === ZOMBIE) {
        // The kernel forgot this node: it gets a fresh id.
        w[at + SEQ]!++;
        w[at + STATE] = KNOWN;
        w[at + LOOKUPS] = 0;
        w[LIVE]!++;
      }
      w[at + LOOKUPS]!++;
      return this.idOf(node);
    }
    const slot = this.allocateSlot();
    if (slot < 0) throw new FsError(ERRNO.ENFILE, "lookup", name);
    const at = this.at(slot);
    w[at + CHILDREN] = 0;
    w[at + TYPE] = key === undefined ? 0 : key.st_mode & S_IFMT;
    w[at + KEYED] = 0;
    this.keys[slot * 2] = key?.st_dev ?? 0;
    this.keys[slot * 2 + 1] = key?.st_ino ?? 0;
    this.attach(slot, parentSlot, bytes);
    const holder = key === undefined ? -1 : this.nodeOfKey(key);
    const node = into >= 0 ? into : holder;
    if (node >= 0) {
      // Another name of a file the kernel knows: one more name in its ring.
      w[at + STATE] = ALIAS;
      w[at + NODE] = node;
      w[at + RING] = w[this.at(node) + RING]!;
      w[this.at(node) + RING] = slot;
      w[this.at(node) + LOOKUPS]!++;
      return this.idOf(node);
    }
    w[at + STATE] = KNOWN;
    w[at + LOOKUPS] = 1;
    w[at + NODE] = slot;
    w[at + RING] = slot;
    this.handles.fill(-1, slot * HANDLES_PER_NODE, (slot + 1) * HANDLES_PER_NODE);
    if (key !== undefined) this.indexKey(slot);
    w[LIVE]!++;
    return this.idOf(slot);
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

  /** The attached slot at `parts` from the root, or -1. */
  private resolve(parts: readonly string[]): number {
    let slot = ROOT_SLOT;
    for (const part of parts) {
      const name = nameBytes(part, 2);
      if (name.length >= NAME_BYTES) return -1;
      slot = this.find(slot, name);
      if (slot < 0) return -1;
    }
    return slot;
  }

  /** Whether name slot `slot` was last seen naming the file `key`. */
  private namesFile(slot: number, key: FileKey): boolean {
    return this.keys[slot * 2] === key.st_dev && this.keys[slot * 2 + 1] === key.st_ino;
  }

  private isDirectory(slot: number): boolean {
    return slot === ROOT_SLOT || this.words[this.at(slot) + TYPE] === S_IFDIR;
  }

  /**
   * Whether name slot `slot`, whose lstat is now `key`, still names its node's file (see the module's identity rules);
   * re-keys a node of one name whose file got a new inode (a union copy-up).
   */
  private stillNames(slot: number, key: NodeKey): boolean {
    const w = this.words;
    const at = this.at(slot);
    const type = key.st_mode & S_IFMT;
    const known = w[at + TYPE]!;
    if (known !== 0 && known !== type) return false;
    if (known === 0 || type === S_IFDIR) {
      // A directory keeps its node (known by name), but its key follows what the name names now, as a name change told
      // by path and file must find (see vanished).
      w[at + TYPE] = type;
      this.keys[slot * 2] = key.st_dev;
      this.keys[slot * 2 + 1] = key.st_ino;
      return true;
    }
    if (this.keys[slot * 2] === key.st_dev && this.keys[slot * 2 + 1] === key.st_ino) return true;
    const other = this.nodeOfKey(key);
    if (other >= 0 && other === w[at + NODE]) {
      this.keys[slot * 2] = key.st_dev;
      this.keys[slot * 2 + 1] = key.st_ino;
      return true;
    }
    return other < 0 && this.follow(slot, key);
  }

  /**
   * Re-keys the node of name slot `slot` to `key`, a new inode of the same type that no node has (see the identity
   * rules); answers whether it did. A node of one name always follows. A node of several names follows with all of
   * them when it is a regular file: the union copied a hard-linked lower file up, and keeps it one file (its index),
   * so every name shows the new inode; a split would leave the kernel showing the old copy through the other names,
   * which it does not look up again before their entries time out.
   */
  private follow(slot: number, key: NodeKey): boolean {
    if (this.rekey(slot, key)) return true;
    if ((key.st_mode & S_IFMT) !== S_IFREG || this.nodeOfKey(key) >= 0) return false;
    const node = this.words[this.at(slot) + NODE]!;
    this.unindexKey(node);
    for (const named of [node, slot]) {
      this.keys[named * 2] = key.st_dev;
      this.keys[named * 2 + 1] = key.st_ino;
    }
    this.indexKey(node);
    return true;
  }

  /**
   * Gives node `slot`, when it has no other name and no node has `key` yet, the inode `key` (the node keeps its id);
   * answers whether the node now has that key.
   */
  private rekey(slot: number, key: NodeKey): boolean {
    const w = this.words;
    const at = this.at(slot);
    const holder = this.nodeOfKey(key);
    if (holder === slot) return true;
    if (holder >= 0 || w[at + RING] !== slot || w[at + STATE] !== KNOWN) return false;
    this.unindexKey(slot);
    this.keys[slot * 2] = key.st_dev;
    this.keys[slot * 2 + 1] = key.st_ino;
    this.indexKey(slot);
    return true;
  }

  private hash(parent: number, name: Uint8Array): number {
    let h = (0x811c9dc5 ^ parent) >>> 0;
    for (const byte of name) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
    return h;
  }

  private keyHash(dev: number, ino: number): number {
    const mix = (h: number, part: number) => {
      const m = Math.imul(h ^ part, 0x01000193) >>> 0;
      return (m ^ (m >>> 15)) >>> 0;
    };
    const high = 0x100000000;
    return mix(mix(mix(mix(0x811c9dc5, ino % high), Math.floor(ino / high)), dev % high), Math.floor(dev / high));
  }

  private sameName(slot: number, name: Uint8Array): boolean {
    if (this.words[this.at(slot) + NAME_LENGTH] !== name.length) return false;
    const start = slot * NAME_BYTES;
    for (let i = 0; i < name.length; i++) if (this.names[start + i] !== name[i]) return false;
    return true;
  }

  /** The attached slot named `name` in `parent` (a node or another name of one), or -1. */
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

  /** The node the kernel holds for the file `key` names, or -1 (directories and inode 0 are never looked up by inode). */
  private nodeOfKey(key: NodeKey): number {
    if ((key.st_mode & S_IFMT) === S_IFDIR || key.st_ino === 0) return -1;
    const w = this.words;
    for (let i = this.keyHash(key.st_dev, key.st_ino) & this.indexMask, probes = 0; probes <= this.indexMask; i = (i + 1) & this.indexMask, probes++) {
      const cell = w[this.keyIndex + i]!;
      if (cell === 0) return -1;
      if (cell === TOMBSTONE) continue;
      const slot = cell - 1;
      if (this.keys[slot * 2] === key.st_dev && this.keys[slot * 2 + 1] === key.st_ino) return slot;
    }
    return -1;
  }

  /** Puts node `slot` in the inode index under its key (not a directory, nor inode 0). */
  private indexKey(slot: number): void {
    const w = this.words;
    const at = this.at(slot);
    const ino = this.keys[slot * 2 + 1]!;
    if (w[at + TYPE] === S_IFDIR || w[at + TYPE] === 0 || ino === 0 || w[at + KEYED] === 1) return;
    w[at + KEYED] = 1;
    this.insertCell(this.keyIndex, this.keyHash(this.keys[slot * 2]!, ino), slot, KEY_TOMBSTONES);
  }

  /** Takes node `slot` out of the inode index. */
  private unindexKey(slot: number): void {
    const w = this.words;
    const at = this.at(slot);
    if (w[at + KEYED] !== 1) return;
    w[at + KEYED] = 0;
    this.removeCell(this.keyIndex, this.keyHash(this.keys[slot * 2]!, this.keys[slot * 2 + 1]!), slot, KEY_TOMBSTONES);
    if (w[KEY_TOMBSTONES]! > this.capacity / 2) this.rebuildKeyIndex();
  }

  /** Puts `slot` in the first free cell from `hash` on of the index at `base` (the names' or the inodes'). */
  private insertCell(base: number, hash: number, slot: number, tombstones: number): void {
    const w = this.words;
    for (let i = hash & this.indexMask; ; i = (i + 1) & this.indexMask) {
      const cell = w[base + i]!;
      if (cell === 0 || cell === TOMBSTONE) {
        if (cell === TOMBSTONE) w[tombstones]!--;
        w[base + i] = slot + 1;
        return;
      }
    }
  }

  /** Takes `slot` out of the index at `base`, leaving a tombstone. */
  private removeCell(base: number, hash: number, slot: number, tombstones: number): void {
    const w = this.words;
    for (let i = hash & this.indexMask; ; i = (i + 1) & this.indexMask) {
      const cell = w[base + i]!;
      if (cell === 0) return;
      if (cell === slot + 1) {
        w[base + i] = TOMBSTONE;
        w[tombstones]!++;
        return;
      }
    }
  }

  /** Gives `slot` the name `name` in `parent` and indexes it. */
  private attach(slot: number, parent: number, name: Uint8Array): void {
    const w = this.words;
    const at = this.at(slot);
    this.names.set(name, slot * NAME_BYTES);
    w[at + NAME_LENGTH] = name.length;
    w[at + PARENT] = parent;
    w[this.at(parent) + CHILDREN]!++;
    this.insertCell(this.index, this.hash(parent, name), slot, TOMBSTONES);
  }

  /** Takes `slot`'s name away (out of the index, off its parent's count); the caller frees or re-attaches it. */
  private detach(slot: number): void {
    const w = this.words;
    const at = this.at(slot);
    const parent = w[at + PARENT]!;
    if (parent < 0) return;
    const start = slot * NAME_BYTES;
    this.removeCell(this.index, this.hash(parent, this.names.subarray(start, start + w[at + NAME_LENGTH]!)), slot, TOMBSTONES);
    w[at + PARENT] = DETACHED;
    w[this.at(parent) + CHILDREN]!--;
    if (w[TOMBSTONES]! > this.capacity / 2) this.rebuildIndex();
  }

  /**
   * The name `name` in `parent`, if the table has it, is gone (unlinked, or replaced by a rename): another name of a
   * node is freed; a node's own slot keeps the node (detached), which leaves the inode index once no name of it is left.
   */
  private detachName(parent: number, name: Uint8Array): void {
    const slot = this.find(parent, name);
    if (slot < 0) return;
    if (this.words[this.at(slot) + STATE] === ALIAS) {
      this.freeAlias(slot);
      return;
    }
    this.detach(slot);
    if (!this.named(slot)) this.unindexKey(slot);
    this.collect(slot);
    this.collect(parent);
  }

  /** Whether node `slot` still has a name attached (its own or another in its ring). */
  private named(slot: number): boolean {
    const w = this.words;
    let name = slot;
    do {
      if (w[this.at(name) + PARENT]! >= 0) return true;
      name = w[this.at(name) + RING]!;
    } while (name !== slot);
    return false;
  }

  /** Takes alias slot `slot` out of its node's ring and frees it; its node leaves the inode index if no name is left. */
  private freeAlias(slot: number): void {
    const w = this.words;
    const at = this.at(slot);
    const node = w[at + NODE]!;
    let before = node;
    while (w[this.at(before) + RING] !== slot) before = w[this.at(before) + RING]!;
    w[this.at(before) + RING] = w[at + RING]!;
    const parent = w[at + PARENT]!;
    this.detach(slot);
    this.release(slot);
    if (parent >= 0) this.collect(parent);
    if (!this.named(node)) this.unindexKey(node);
  }

  /** Puts `slot` (detached, with nothing under it) on the free list; its next use has a new `seq`. */
  private release(slot: number): void {
    const w = this.words;
    const at = this.at(slot);
    w[at + STATE] = FREE;
    w[at + SEQ]!++;
    w[at + NEXT_FREE] = w[FREE_HEAD]!;
    w[FREE_HEAD] = slot;
  }

  /** Frees `slot` (and then its parent, and so on) when the kernel holds it no more and no node is under it. */
  private collect(slot: number): void {
    const w = this.words;
    while (slot > ROOT_SLOT) {
      const at = this.at(slot);
      const state = w[at + STATE];
      if (state !== ZOMBIE || w[at + CHILDREN]! > 0) return;
      const parent = w[at + PARENT]!;
      this.detach(slot);
      this.release(slot);
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
      this.insertCell(this.index, this.hash(parent, this.names.subarray(start, start + w[at + NAME_LENGTH]!)), slot, TOMBSTONES);
    }
  }

  /** Re-indexes every keyed node by inode, dropping the tombstones. */
  private rebuildKeyIndex(): void {
    const w = this.words;
    w.fill(0, this.keyIndex, this.keyIndex + this.indexMask + 1);
    w[KEY_TOMBSTONES] = 0;
    for (let slot = ROOT_SLOT + 1; slot < w[NEXT_FRESH]!; slot++) {
      const at = this.at(slot);
      if (w[at + KEYED] !== 1) continue;
      w[at + KEYED] = 0;
      this.indexKey(slot);
    }
  }
}
