/**
 * @module layer — the branch stack and path lookup through it: one rw upper (index 0) over read-only lowers (1.., top
 * first). A name is looked up top-down and the first branch holding the name or its whiteout decides; a directory
 * merges with the same path in lower branches until one holds a non-directory or a whiteout there, or the
 * directory is opaque. Symlinks are followed by the union itself, inside the union root (as RESOLVE_IN_ROOT: an
 * absolute target starts at the union root, ".." at the root stays there), so every path handed to a branch is a
 * canonical path of directories that exist in that branch; each branch still confines it again.
 */
import {
  ERRNO, type FileSystem, FsError, type ReadOnlyFileSystem, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
  type Stat,
} from "../../kernel/ipc/protocol/index.ts";
import { indexedLower, upperStat } from "./hardlink.ts";
import { LowerNames } from "./lower-names.ts";
import { childPath, joinPath, splitComponents } from "./path.ts";
import { isReserved, OPAQUE_MARKER, refuseReserved, whiteoutName } from "./whiteout.ts";

/** Linux's limit on symlinks followed in one lookup. */
const MAX_SYMLINKS = 40;

/** Whether a stat names a directory. */
export function isDir(stat: Stat): boolean {
  return (stat.st_mode & S_IFMT) === S_IFDIR;
}
/** Whether a stat names a symlink. */
export function isSymlink(stat: Stat): boolean {
  return (stat.st_mode & S_IFMT) === S_IFLNK;
}
/** Whether a stat names a regular file. */
export function isRegular(stat: Stat): boolean {
  return (stat.st_mode & S_IFMT) === S_IFREG;
}

/** Whether a stat names a FIFO, a socket or a device: a node without data in the branch, which mknod makes. */
export function isNodeOnly(stat: Stat): boolean {
  const type = stat.st_mode & S_IFMT;
  return type === S_IFIFO || type === S_IFSOCK || type === S_IFCHR || type === S_IFBLK;
}

/** One visible object of the union. */
export interface Node {
  /** Canonical union path ("" for the root). */
  readonly path: string;
  /** The topmost branch holding it: the one whose object it is. */
  readonly branch: number;
  /** lstat of the object in that branch. */
  readonly stat: Stat;
  /** For a directory, the branches merged into it, top first (`branch` first); empty otherwise. */
  readonly layers: readonly number[];
  /**
   * For a name of a hard-linked lower file that was copied up through another name: its index entry in the upper
   * (see `hardlink.ts`); `stat` is then the copy's. Its data and attributes are the copy's, at `indexData(index)`.
   */
  readonly index?: string;
}

/** A looked-up path: the directory holding the final name, that name and what it is. */
export interface Resolved {
  /** The directory holding `name`; null when the path names the root or ends in "." or "..". */
  readonly parent: Node | null;
  /** The final component; "" for the root, "." or ".." when the path ends so (then `node` is that directory). */
  readonly name: string;
  /** The object, or null when the name is missing (only then may it be created). */
  readonly node: Node | null;
  /** When `node` is null: the branch whose whiteout hides the name (-1 when none does). */
  readonly whiteout: number;
  /** The path (or the final symlink's target) ended with "/". */
  readonly trailingSlash: boolean;
}

/** The result of looking up one name in a directory. */
interface Lookup {
  readonly node: Node | null;
  readonly whiteout: number;
}

/** Whether an FsError means "nothing there" for a lookup. */
function absent(error: unknown): boolean {
  return error instanceof FsError && (error.errno === ERRNO.ENOENT || error.errno === ERRNO.ENOTDIR);
}

/** The ordered branches of one union and lookups through them. */
export class BranchStack {
  /** Branch 0 is the upper, 1.. the lowers top first. Only the upper is written: see {@link upper}. */
  readonly branches: readonly ReadOnlyFileSystem[];
  private readonly rootLayers: number[] = [0];
  /** What the lowers' directories hold, as far as listed: absent names cost no call (`lower-names.ts`). */
  private readonly lowerNames: LowerNames;

  constructor(private readonly writable: FileSystem, lowers: readonly ReadOnlyFileSystem[]) {
    this.branches = [writable, ...lowers];
    this.lowerNames = new LowerNames(this.branches);
    if (!this.isOpaque(0, "")) {
      for (let b = 1; b < this.branches.length; b++) {
        const stat = this.lstatOrNull(b, "");
        if (stat === null || !isDir(stat)) break;
        this.rootLayers.push(b);
        // The bottom's opaque marker would hide nothing (see lookupChild).
        if (b < this.branches.length - 1 && this.isOpaque(b, "")) break;
      }
    }
  }

  /** The upper branch. */
  get upper(): FileSystem {
    return this.writable;
  }

  /** Branch `index`, to read from (write through {@link upper}). */
  branch(index: number): ReadOnlyFileSystem {
    const fs = this.branches[index];
    if (fs === undefined) throw new FsError(ERRNO.EBADF, "branch");
    return fs;
  }

  /**
   * The root's node. Its lstat is taken when first asked for: resolving a path below the root only needs the root's
   * layers, and in a split topology every lstat is a crossing to the client-cache process.
   */
  root(): Node {
    const upper = this.upper;
    let stat: Stat | undefined;
    return {
      path: "",
      branch: 0,
      get stat() {
        return (stat ??= upper.lstat(""));
      },
      layers: this.rootLayers,
    };
  }

  /** lstat of `path` in branch `b`, or null when it is missing. Other errors propagate (ENAMETOOLONG, EACCES...). */
  lstatOrNull(b: number, path: string): Stat | null {
    if (!this.mayHold(b, path)) return null;
    try {
      return this.branch(b).lstat(path);
    } catch (error) {
      if (absent(error)) {
        this.missed(b, path);
        return null;
      }
      throw error;
    }
  }

  /** Whether the name `path` exists in branch `b` (any error counts as no: a name too long for ".wh." is not there). */
  exists(b: number, path: string): boolean {
    if (!this.mayHold(b, path)) return false;
    try {
      this.branch(b).lstat(path);
      return true;
    } catch (error) {
      if (error instanceof FsError) {
        if (absent(error)) this.missed(b, path);
        return false;
      }
      throw error;
    }
  }

  /** False when lower `b`'s listing shows no `path` (the upper and the root are always asked). */
  private mayHold(b: number, path: string): boolean {
    return b === 0 || path === "" || this.lowerNames.mayHold(b, path);
  }

  /** A lookup found `path` missing in branch `b`: a lower lists that directory for the next lookups there. */
  private missed(b: number, path: string): void {
    if (b !== 0 && path !== "") this.lowerNames.missed(b, path);
  }

  /** Whether directory `dir` of branch `b` is opaque. */
  isOpaque(b: number, dir: string): boolean {
    return this.exists(b, childPath(dir, OPAQUE_MARKER));
  }

  /** Whether branch `b` holds a whiteout of `name` in directory `dir`. */
  hasWhiteout(b: number, dir: string, name: string): boolean {
    return this.exists(b, childPath(dir, whiteoutName(name)));
  }

  /**
   * Looks `name` up in directory `dir` through its layers (see the module comment). Nothing of `dir` lies below its
   * last layer, so a whiteout or an opaque marker there would hide nothing: they are not looked for in it (each is a
   * lookup of a name that is usually missing, which on CephFS is an MDS round trip: the client holds no shared
   * capability on a read-only lower's directories, so it cannot know an absence by itself). The upper's whiteout
   * is looked for even there, because callers act on it (`Resolved.whiteout` 0); a lower's is reported as -1.
   *
   * In a merged directory the upper's whiteout of a name is looked for only once a lower shows the name or a whiteout
   * of it: lowers do not change, so the upper holds a whiteout only of a name some lower shows, and a name new to the
   * union (a create's usual case) costs one lookup per branch instead of one more in the upper.
   */
  lookupChild(dir: Pick<Node, "path" | "layers">, name: string): Lookup {
    const path = childPath(dir.path, name);
    const layers = dir.layers;
    const last = layers.length - 1;
    let upperMissing = false;
    for (let i = 0; i <= last; i++) {
      const b = layers[i]!;
      const stat = this.lstatOrNull(b, path);
      if (stat === null) {
        if (b === 0 && i < last) {
          upperMissing = true;
          continue;
        }
        if ((i < last || b === 0) && this.hasWhiteout(b, dir.path, name)) return { node: null, whiteout: this.upperWhiteout(upperMissing, dir, name) ?? b };
        continue;
      }
      const hidden = this.upperWhiteout(upperMissing, dir, name);
      if (hidden !== null) return { node: null, whiteout: hidden };
      if (!isDir(stat)) return { node: this.fileNode(path, b, stat), whiteout: -1 };
      const merged = [b];
      if (i < last && !this.isOpaque(b, path)) {
        for (let j = i + 1; j <= last; j++) {
          const lower = layers[j]!;
          const below = this.lstatOrNull(lower, path);
          if (below === null) {
            if (j < last && this.hasWhiteout(lower, dir.path, name)) break;
            continue;
          }
          if (!isDir(below)) break;
          merged.push(lower);
          if (j < last && this.isOpaque(lower, path)) break;
        }
      }
      return { node: { path, branch: b, stat, layers: merged }, whiteout: -1 };
    }
    return { node: null, whiteout: -1 };
  }

  /** 0 when the upper was found without `name` (`upperMissing`) and holds a whiteout of it, else null. */
  private upperWhiteout(upperMissing: boolean, dir: Pick<Node, "path">, name: string): 0 | null {
    return upperMissing && this.hasWhiteout(0, dir.path, name) ? 0 : null;
  }

  /** The node of non-directory `path` of branch `b`: a hard-linked file shows its copy in the index (`hardlink.ts`). */
  private fileNode(path: string, b: number, stat: Stat): Node {
    if (b === 0) return { path, branch: 0, stat: upperStat(this.upper, stat), layers: [] };
    const indexed = indexedLower(this, b, stat);
    if (indexed === null) return { path, branch: b, stat, layers: [] };
    return { path, branch: b, stat: indexed.stat, layers: [], index: indexed.entry };
  }

  /**
   * The union path of `path`'s final name when that name is the upper's business alone: its directory is in the upper
   * and the listings of the directory's lowers show no such name (`lower-names.ts`), so no lower object, whiteout or
   * copy-up is involved and a call on the upper's name does what the union would (after the first lookup in a
   * directory, a create or unlink of a new name there costs one call). Null when that is not known (a final ".", "..",
   * `.wh.` name or trailing slash, a directory not listed yet, an error on the way): the caller takes the full lookup.
   */
  upperOnly(path: string, syscall: string): string | null {
    if (path.includes("\0")) return null;
    const { components, trailingSlash } = splitComponents(path);
    const name = components.pop();
    if (name === undefined || trailingSlash || name === "." || name === ".." || isReserved(name)) return null;
    let dir: Node | null;
    try {
      dir = components.length === 0 ? this.root() : this.resolve(joinPath(components), true, syscall).node;
    } catch (error) {
      if (error instanceof FsError) return null;
      throw error;
    }
    if (dir === null || dir.layers[0] !== 0 || (components.length > 0 && !isDir(dir.stat))) return null;
    const target = childPath(dir.path, name);
    for (let i = 1; i < dir.layers.length; i++) if (this.lowerNames.mayHold(dir.layers[i]!, target)) return null;
    return target;
  }

  /** Whether a lower branch of directory `dir` holds `name` (ignoring the upper and its whiteouts). */
  lowerHas(dir: Node, name: string): Lookup {
    return this.lookupChild({ path: dir.path, layers: dir.layers.filter((b) => b !== 0) }, name);
  }

  /**
   * Resolves `path` in the union. `follow` follows a final symlink; a trailing slash does too unless `creating`
   * (mkdir of "link/" finds the link: EEXIST, as in Linux). Throws FsError: ENOENT (a missing directory on the way),
   * ENOTDIR, ELOOP, EINVAL (a `.wh.` component), ENAMETOOLONG (a name over NAME_MAX; a path has no bound).
   */
  resolve(path: string, follow: boolean, syscall: string, creating = false): Resolved {
    if (path.includes("\0")) throw new FsError(ERRNO.EINVAL, syscall, path);
    const split = splitComponents(path);
    let trailingSlash = split.trailingSlash;
    const queue = split.components;
    const root = this.root();
    let stack: Node[] = [root];
    let links = 0;
    const top = (): Node => stack[stack.length - 1]!;
    while (queue.length > 0) {
      const component = queue.shift()!;
      const last = queue.length === 0;
      if (component === "." || component === "..") {
        if (component === ".." && stack.length > 1) stack.pop();
        if (last) return { parent: null, name: component, node: top(), whiteout: -1, trailingSlash };
        continue;
      }
      refuseReserved(component, syscall, path);
      const dir = top();
      const found = this.lookupChild(dir, component);
      const node = found.node;
      if (node === null) {
        if (last) return { parent: dir, name: component, node: null, whiteout: found.whiteout, trailingSlash };
        throw new FsError(ERRNO.ENOENT, syscall, path);
      }
      if (isSymlink(node.stat) && (!last || follow || (trailingSlash && !creating))) {
        if (++links > MAX_SYMLINKS) throw new FsError(ERRNO.ELOOP, syscall, path);
        const target = this.branch(node.branch).readlink(node.path);
        if (target === "") throw new FsError(ERRNO.ENOENT, syscall, path);
        const inner = splitComponents(target);
        if (target.startsWith("/")) stack = [root];
        if (last) trailingSlash = trailingSlash || inner.trailingSlash || (inner.components.length > 0 && target.endsWith("/"));
        queue.unshift(...inner.components);
        continue;
      }
      if (!last) {
        if (!isDir(node.stat)) throw new FsError(ERRNO.ENOTDIR, syscall, path);
        stack.push(node);
        continue;
      }
      if (trailingSlash && !isDir(node.stat) && !creating) throw new FsError(ERRNO.ENOTDIR, syscall, path);
      return { parent: dir, name: component, node, whiteout: -1, trailingSlash };
    }
    // The root itself, or a symlink whose target spells a directory with no final name ("/", "..").
    return { parent: null, name: stack.length === 1 && links === 0 ? "" : ".", node: top(), whiteout: -1, trailingSlash };
  }
}
