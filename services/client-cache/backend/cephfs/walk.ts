/**
 * @module walk — every path lookup of the cephfs backend, done component by component on the low-level libcephfs
 * inode API and confined to the backend's sub-root.
 *
 * The confinement rule (RESOLVE_IN_ROOT, done by hand):
 * 1. A walk starts at the sub-root's inode, never at the mount root; no path is ever handed to a libcephfs call that
 *    walks paths itself. Each component is looked up with ceph_ll_lookup in the directory the walk stands in, and
 *    only if that is a directory (ENOTDIR otherwise).
 * 2. ".." is never looked up: the walk keeps the stack of directories it descended through and ".." pops one; at
 *    the sub-root (stack bottom) ".." stays there. So ".." can only lead back to a directory the walk itself went
 *    through from the sub-root, even while directories are renamed concurrently.
 * 3. A symlink met before the last component (or as the last when the operation follows it) is read with
 *    ceph_ll_readlink and its target's components are spliced in front of the rest: a relative target continues
 *    from the current directory (with its ".." under rule 2), an absolute target restarts at the sub-root. More
 *    than 40 symlinks in one walk fail with ELOOP. A target ending in "/" must name a directory.
 * 4. Operations on a name (create, remove, rename, link) get its parent from a walk of all but the last component,
 *    plus that component verbatim; a last "." / ".." / empty path is reported as such and each operation answers
 *    it the way Linux does, so no libcephfs call ever receives "." or "..".
 * 5. Every Inode reference a lookup takes is put exactly once: the walk puts what it does not return, the caller
 *    puts what it gets (see {@link Walker.put}). The sub-root itself is borrowed from the backend and never put here.
 */
import { ERRNO, FsError, isByteString, nameToBytes } from "../../../../kernel/ipc/protocol/index.ts";
import { CEPH_STATX, CEPH_STATX_MASK } from "./structs.ts";
import { address, type Address, type CephFsCalls } from "./libcephfs.ts";
import { isDirectory, isSymlink, MAX_SYMLINKS, NAME_MAX, PATH_MAX, S } from "./linux.ts";

/** An inode a walk produced: its address, whether the holder must put it, and its file type bits. */
export interface Held {
  readonly inode: Address;
  /** False only for the sub-root, which the backend owns. */
  readonly owned: boolean;
  /** `st_mode` type bits (S_IFMT) at lookup time. */
  readonly type: number;
}

/** The directory holding a path's last component, and that component. */
export interface ParentOf {
  /** The parent directory (always a directory); put it when done. */
  readonly parent: Held;
  /**
   * What the last component is: an ordinary `name`; `dot` (".") or `dotdot` (".."); or `root` for a path with no
   * component at all ("", "/"), whose parent is the sub-root itself.
   */
  readonly kind: "name" | "dot" | "dotdot" | "root";
  /** The last component ("" for `root`). */
  readonly name: string;
  /** The path ended in "/" (the last component must be a directory). */
  readonly trailingSlash: boolean;
}

/** A walk that found everything but its last component: where and under what name to create it. */
export interface Missing {
  readonly parent: Held;
  readonly name: string;
}

/** Per-thread scratch space; every call is synchronous, so one of each is enough. */
const out = new BigUint64Array(1);
const statx = new Uint8Array(CEPH_STATX.size);
const statxView = new DataView(statx.buffer);
const MODE_OFFSET = CEPH_STATX.offsets.stx_mode;
const linkBuffer = Buffer.alloc(PATH_MAX);

/** A path split into components, with the checks Linux makes before any lookup. */
interface ParsedPath {
  readonly components: string[];
  readonly trailingSlash: boolean;
}

function parse(path: string, syscall: string): ParsedPath {
  if (path.includes("\0") || !isByteString(path)) throw new FsError(ERRNO.EINVAL, syscall, path);
  // The walk goes one name at a time, so a path longer than one syscall argument (PATH_MAX) is fine, at any depth.
  const components = path.split("/").filter((part) => part !== "");
  return { components, trailingSlash: components.length > 0 && path.endsWith("/") };
}

/** True when byte string `name` is longer than NAME_MAX bytes. */
function tooLong(name: string): boolean {
  return name.length > NAME_MAX;
}

/** Resolves paths under one sub-root (see the confinement rule above). One per backend; used by one thread. */
export class Walker {
  private readonly rootHeld: Held;

  constructor(
    private readonly lib: CephFsCalls,
    private readonly mount: Address,
    private readonly perms: Address,
    /** The sub-root's `Inode *`, referenced by the owner of this walker for its whole life. */
    readonly root: Address,
  ) {
    this.rootHeld = { inode: root, owned: false, type: S.IFDIR };
  }

  /** Gives back what a walk returned (puts the reference unless it is the borrowed sub-root). */
  put(held: Held): void {
    if (held.owned) this.lib.ceph_ll_put(this.mount, held.inode);
  }

  /** A reference of the caller's own to `held`'s inode (for keeping it beyond the call, in the handle table). */
  ownedReference(held: Held, syscall: string): Address {
    if (held.owned) return held.inode;
    const result = this.lib.ceph_ll_lookup(this.mount, held.inode, DOT, out, statx, CEPH_STATX_MASK.INO, 0, this.perms);
    if (result < 0) throw new FsError(-result, syscall);
    return address(out[0]!);
  }

  /**
   * The object `path` names, following a final symlink when `follow` (a trailing slash always follows and requires
   * a directory). Throws FsError: ENOENT, ENOTDIR, ELOOP, EACCES, ENAMETOOLONG, EINVAL (NUL in the path).
   */
  resolve(path: string, follow: boolean, syscall: string): Held {
    const parsed = parse(path, syscall);
    const pending = parsed.components.reverse();
    if (parsed.trailingSlash) pending.unshift(".");
    const found = this.walk(pending, follow, false, syscall, path);
    return found as Held;
  }

  /**
   * Like {@link resolve}, but when only the last component is missing returns where to create it (for O_CREAT). A
   * dangling final symlink that is followed yields its target's last component in the target's directory.
   */
  resolveOrMissing(path: string, follow: boolean, syscall: string): Held | Missing {
    const parsed = parse(path, syscall);
    const pending = parsed.components.reverse();
    if (parsed.trailingSlash) pending.unshift(".");
    return this.walk(pending, follow, true, syscall, path);
  }

  /**
   * The parent directory of `path`'s last component (every earlier symlink followed) and that component. Throws
   * FsError: ENOENT, ENOTDIR (the parent is not a directory), ELOOP, EACCES, ENAMETOOLONG (also a last name over
   * 255 bytes), EINVAL.
   */
  parentOf(path: string, syscall: string): ParentOf {
    const { components, trailingSlash } = parse(path, syscall);
    const name = components.pop();
    const parent = this.walk(components.reverse(), true, false, syscall, path) as Held;
    if (!isDirectory(parent.type)) {
      this.put(parent);
      throw new FsError(ERRNO.ENOTDIR, syscall, path);
    }
    if (name === undefined) return { parent, kind: "root", name: "", trailingSlash };
    if (name === ".") return { parent, kind: "dot", name, trailingSlash };
    if (name === "..") return { parent, kind: "dotdot", name, trailingSlash };
    if (tooLong(name)) {
      this.put(parent);
      throw new FsError(ERRNO.ENAMETOOLONG, syscall, path);
    }
    return { parent, kind: "name", name, trailingSlash };
  }

  /** Looks `name` up in the directory `parent` without following anything; null when it does not exist. */
  lookupName(parent: Held, name: string, syscall: string, path: string): Held | null {
    const result = this.lib.ceph_ll_lookup(this.mount, parent.inode, cName(name), out, statx, CEPH_STATX_MASK.INO, 0, this.perms);
    if (result === -ERRNO.ENOENT) return null;
    if (result < 0) throw new FsError(-result, syscall, path);
    return { inode: address(out[0]!), owned: true, type: statxView.getUint16(MODE_OFFSET, true) & S.IFMT };
  }

  /** The target stored in the symlink `held`. Throws FsError from ceph_ll_readlink. */
  readTarget(held: Held, syscall: string, path: string): string {
    const length = this.lib.ceph_ll_readlink(this.mount, held.inode, linkBuffer, linkBuffer.length, this.perms);
    if (length < 0) throw new FsError(-length, syscall, path);
    return linkBuffer.toString("latin1", 0, length); // a byte string (names.ts)
  }

  /**
   * The walk itself: `pending` holds the components still to go, the next one last. Returns the final inode, or
   * with `allowMissing` the parent and name of a missing last component.
   */
  private walk(pending: string[], follow: boolean, allowMissing: boolean, syscall: string, path: string): Held | Missing {
    const stack: Held[] = [this.rootHeld];
    let links = 0;
    try {
      while (pending.length > 0) {
        const name = pending.pop()!;
        const last = pending.length === 0;
        const current = stack[stack.length - 1]!;
        if (!isDirectory(current.type)) throw new FsError(ERRNO.ENOTDIR, syscall, path);
        if (name === ".") continue;
        if (name === "..") {
          if (stack.length > 1) this.put(stack.pop()!);
          continue;
        }
        const child = this.lookupName(current, name, syscall, path);
        if (child === null) {
          if (last && allowMissing) return { parent: stack.pop()!, name };
          throw new FsError(ERRNO.ENOENT, syscall, path);
        }
        if (!isSymlink(child.type) || (last && !follow)) {
          stack.push(child);
          continue;
        }
        let target: string;
        try {
          if (++links > MAX_SYMLINKS) throw new FsError(ERRNO.ELOOP, syscall, path);
          target = this.readTarget(child, syscall, path);
        } finally {
          this.put(child);
        }
        if (target === "") throw new FsError(ERRNO.ENOENT, syscall, path);
        if (target.startsWith("/")) while (stack.length > 1) this.put(stack.pop()!);
        const parts = target.split("/").filter((part) => part !== "");
        if (target.endsWith("/") && parts.length > 0) pending.push(".");
        for (let i = parts.length - 1; i >= 0; i--) pending.push(parts[i]!);
      }
      return stack.pop()!;
    } finally {
      for (const held of stack) this.put(held);
    }
  }
}

const DOT = Buffer.from(".\0");

/** A component or target (a byte string, names.ts) as a C string, byte for byte (callers have excluded NUL bytes). */
export function cName(name: string): Buffer {
  return nameToBytes(name + "\0");
}
