/**
 * @module union-file-system — the union as a FileSystem over other FileSystems (paper §2.2, §4.2), following kernel
 * overlayfs with redirect_dir=on (a lower or merged directory is renamed by copying its tree up, `copy-up-tree.ts`;
 * or EXDEV as with redirect_dir=off, the `renameDir` option), index=on (hard links of lower files stay one file
 * across copy-up, `hardlink.ts`) and metacopy=off, with OCI whiteout files.
 *
 * Deliberate departures from overlayfs (the differential test lists the same):
 * - Names starting with `.wh.` are reserved: any path component spelling one answers EINVAL (open, create, stat,
 *   rename, link, symlink, mkdir... ), and they never appear in listings.
 * - A whiteout is a file named `.wh.<name>`, so a lower name longer than 251 bytes cannot be whited out: unlink,
 *   rmdir or rename-away of such a lower name answers ENAMETOOLONG (names only in the upper are unaffected).
 * - st_ino and st_dev are the owning branch's: they change when a file is copied up (a hard-linked lower file's
 *   names show its copy's, all the same); directories report the topmost branch's stat (overlayfs would keep a lower
 *   inode number with xino).
 * - A directory rename copies the directory's whole tree into the upper (overlayfs records a redirect instead), so
 *   its cost grows with the tree.
 * - Absolute symlink targets resolve at the union root (overlayfs, reached from the host, resolves them at "/").
 * - rename honours RENAME_NOREPLACE; RENAME_EXCHANGE answers EINVAL.
 * - Directory handles do not follow a rename of their directory for the lower layers: once the directory moved, a
 *   listing shows the upper directory's own entries only.
 * - Readdir cookies are 52-bit hashes of the names (see `readdir.ts`), not overlayfs's positions.
 * - A read-only handle opened on a lower file before that file is copied up keeps reading the lower file (overlayfs
 *   since Linux 4.19 switches such a handle to the upper copy); a handle holds only its branch and branch handle.
 * - Error order follows Linux's VFS where the differential test reaches it (parents, then the final name, then
 *   rename's trailing-slash, ancestor and type checks, then EXDEV, then ENOTEMPTY).
 *
 * Crash safety: copy-up publishes a file only complete (see `copy-up.ts`); a whiteout is always created before the
 * upper name it replaces is removed or renamed away (while both exist the upper name wins), so no crash point shows
 * a lower object again that was deleted; a crash may leave unlisted `.wh..wh.` temp names, which rmdir removes. A
 * directory rename publishes nothing before the whole tree is in the upper (each step of that keeps the view); a
 * crash in the hard-link index can leave a link count one too high, never a name without its data (`hardlink.ts`).
 * FIFOs, sockets and devices are copied up with mknod, a device keeping its number, as overlayfs does; copying up a
 * device needs an upper that may make one (EPERM otherwise, as overlayfs's copy-up without CAP_MKNOD).
 */
import {
  AT_SYMLINK_NOFOLLOW, type Dirent, ERRNO, type FileSystem, FsError, mknodNode, O, type ReadOnlyFileSystem, readWholeDirectory,
  RENAME_NOREPLACE, type Stat, type Statfs, type Timespec,
} from "../../kernel/ipc/protocol/index.ts";
import { copyUp, copyUpDirectory } from "./copy-up.ts";
import { copyUpTree, hasLowerPart } from "./copy-up-tree.ts";
import { dropLowerName, ensureIndex, indexData, isIndexed, upperStat } from "./hardlink.ts";
import { decodeHandle, encodeDirHandle, encodeFileHandle, MAX_BRANCHES } from "./handle.ts";
import { BranchStack, isDir, isRegular, isSymlink, type Node, type Resolved } from "./layer.ts";
import { childPath, isWithin, splitComponents } from "./path.ts";
import { type Batch, handleBatch, hasEntries, mergedBatch } from "./readdir.ts";
import { DirTable, type UnionShared } from "./shared.ts";
import { isReserved, OPAQUE_MARKER, whiteoutName } from "./whiteout.ts";

/** Streams whose last window a thread keeps (see `windows`): at most this many × ~256 entries per thread. */
const WINDOWS_KEPT = 64;

/** The last window a thread listed for a stream: every visible entry after `after` up to its last, in cookie order. */
interface KeptWindow {
  readonly after: number;
  readonly entries: readonly Dirent[];
  /** Nothing follows the entries. */
  readonly last: boolean;
}

/** The entries of a cookie-ordered window after `cookie`. */
function entriesAfter(entries: readonly Dirent[], cookie: number): Dirent[] {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (entries[mid]!.next <= cookie) low = mid + 1;
    else high = mid;
  }
  return entries.slice(low);
}

/** The branches of one union: the rw upper and the ro lowers, top first. */
export interface UnionBranches {
  readonly upper: FileSystem;
  /** Never written: the type leaves out every call that changes a file or a name. */
  readonly lowers: readonly ReadOnlyFileSystem[];
}

/**
 * What rename(2) of a directory with a lower part does: `"copy-up"` (the default) copies the whole directory tree
 * into the upper first (see `copy-up-tree.ts`) and renames it there, as overlayfs with `redirect_dir=on` renames it;
 * `"exdev"` answers EXDEV, as overlayfs with `redirect_dir=off` (tools such as `mv` then copy and delete).
 */
export type RenameDir = "copy-up" | "exdev";

/** Settings of one union. */
export interface UnionOptions {
  /** Default "copy-up". */
  readonly renameDir?: RenameDir;
}

/**
 * A union of FileSystems: one rw upper over read-only lowers, with whiteouts, opaque directories and copy-up (see
 * the module comment for what differs from overlayfs). Build one per thread over the thread's own branch instances
 * (same paths) and the same {@link UnionShared}: handles (see `handle.ts`) are valid in every such instance. The
 * lowers are never written. Methods throw {@link FsError}.
 */
export class UnionFileSystem implements FileSystem {
  private readonly stack: BranchStack;
  private readonly dirs: DirTable;
  /**
   * Directory handle → the window this thread listed last for it, for the {@link WINDOWS_KEPT} streams it served
   * last: a read from a cookie inside it (the rest of a batch the caller could not take, or a seek back within it)
   * needs no pass over the layers. Bounded whatever the number of streams.
   */
  private readonly windows = new Map<number, KeptWindow>();

  private readonly renameDir: RenameDir;

  constructor(branches: UnionBranches, shared: UnionShared, options: UnionOptions = {}) {
    if (branches.lowers.length + 1 > MAX_BRANCHES) throw new RangeError(`a union stacks at most ${MAX_BRANCHES} branches`);
    this.stack = new BranchStack(branches.upper, branches.lowers);
    this.dirs = new DirTable(shared);
    this.renameDir = options.renameDir ?? "copy-up";
    if (this.renameDir !== "copy-up" && this.renameDir !== "exdev") throw new RangeError(`renameDir ${String(this.renameDir)}: "copy-up" or "exdev"`);
  }

  /**
   * open(2). A write open (O.WRONLY, O_RDWR, O.TRUNC) of a lower file copies it up first (no data for O.TRUNC);
   * O.CREAT creates in the upper. EEXIST, ENOENT, ENOTDIR, EISDIR, ELOOP, EINVAL (`.wh.` names, O.PATH), EMFILE.
   */
  open(path: string, flags: number, mode: number): number {
    if (flags & O.PATH) throw new FsError(ERRNO.EINVAL, "open", path);
    const creating = (flags & O.CREAT) !== 0;
    if (creating && !(flags & O.DIRECTORY)) {
      const done = this.inUpperOnly(path, "open", (target) => this.stack.upper.open(target, flags | O.NOFOLLOW, mode));
      if (done !== null) return this.fileHandle(0, done.value);
    }
    const follow = !(flags & O.NOFOLLOW) && !(creating && flags & O.EXCL);
    // O.CREAT with a trailing slash: EISDIR whatever the final name is, once its parent resolved (as Linux).
    const slashCreate = creating && splitComponents(path).trailingSlash;
    const found = this.stack.resolve(path, follow && !slashCreate, "open", creating);
    if (slashCreate) throw new FsError(ERRNO.EISDIR, "open", path);
    const node = found.node;
    const plain = flags & ~(O.CREAT | O.EXCL);
    if (node === null) {
      if (!creating) throw new FsError(ERRNO.ENOENT, "open", path);
      const parent = this.parentOf(found, "open", path);
      copyUpDirectory(this.stack, parent.path);
      const target = childPath(parent.path, found.name);
      const handle = this.stack.upper.open(target, flags, mode);
      this.dropWhiteout(found, parent);
      return this.fileHandle(0, handle);
    }
    if (creating && flags & O.EXCL) throw new FsError(ERRNO.EEXIST, "open", path);
    const writes = (flags & O.ACCMODE) !== 0 || (flags & O.TRUNC) !== 0;
    if (isDir(node.stat)) {
      if (creating) throw new FsError(ERRNO.EISDIR, "open", path);
      const handle = this.stack.branch(node.branch).open(node.path, plain, 0);
      return this.dirHandle(node, handle);
    }
    // Refused before any copy-up, as the kernel does.
    if (flags & O.DIRECTORY && !isSymlink(node.stat)) throw new FsError(ERRNO.ENOTDIR, "open", path);
    if (writes && node.branch !== 0 && isRegular(node.stat)) {
      copyUp(this.stack, node, (flags & O.TRUNC) === 0);
      return this.fileHandle(0, this.stack.upper.open(node.path, plain | O.NOFOLLOW, 0));
    }
    if (!isSymlink(node.stat) && node.branch !== 0 && writes) {
      // A special file of a lower: opening it for writing writes to the device, never to the branch.
      return this.fileHandle(node.branch, this.stack.branch(node.branch).open(node.path, plain & ~O.TRUNC, 0));
    }
    // (An indexed symlink is only reached here with O_NOFOLLOW: ELOOP, as for any symlink.)
    if (node.index !== undefined) return this.fileHandle(0, this.stack.upper.open(indexData(node.index), plain | O.NOFOLLOW, 0));
    return this.fileHandle(node.branch, this.stack.branch(node.branch).open(node.path, plain | (isSymlink(node.stat) ? 0 : O.NOFOLLOW), 0));
  }

  /** The branch's FIFO node behind a file handle (a FIFO of any layer is the kernel's pipe), -1 otherwise. EBADF. */
  fifoNode(fd: number): number {
    const decoded = decodeHandle(fd);
    if (decoded === null) throw new FsError(ERRNO.EBADF, "open");
    return decoded.kind === "file" ? this.fileBranch(decoded.branch, "open").fifoNode(decoded.handle) : -1;
  }

  /** Releases a handle. EBADF. */
  close(fd: number): void {
    const decoded = decodeHandle(fd);
    if (decoded === null) throw new FsError(ERRNO.EBADF, "close");
    if (decoded.kind === "file") return this.fileBranch(decoded.branch, "close").close(decoded.handle);
    const slot = this.dirs.remove(decoded.slot, decoded.generation);
    if (slot === null) throw new FsError(ERRNO.EBADF, "close");
    this.windows.delete(fd);
    this.stack.branch(slot.branch).close(slot.handle);
  }

  /** pread(2). EBADF, EISDIR. */
  pread(fd: number, into: Uint8Array, offset: number): number {
    const { fs, handle } = this.target(fd, "pread");
    return fs.pread(handle, into, offset);
  }

  /** pwrite(2). EBADF (also a read-only handle of a lower file), EFBIG, ENOSPC. */
  pwrite(fd: number, data: Uint8Array, offset: number): number {
    const { fs, handle } = this.writableTarget(fd, "pwrite", ERRNO.EBADF);
    return fs.pwrite(handle, data, offset);
  }

  /** read(2). EBADF, EISDIR. */
  read(fd: number, into: Uint8Array): number {
    const { fs, handle } = this.target(fd, "read");
    return fs.read(handle, into);
  }

  /** write(2). EBADF, EFBIG, ENOSPC. */
  write(fd: number, data: Uint8Array): number {
    const { fs, handle } = this.writableTarget(fd, "write", ERRNO.EBADF);
    return fs.write(handle, data);
  }

  /** lseek(2). EINVAL, EBADF. */
  lseek(fd: number, offset: number, whence: number): number {
    const { fs, handle } = this.target(fd, "lseek");
    return fs.lseek(handle, offset, whence);
  }

  /** fstat(2): the branch's stat of the open object (an upper file's link count as `hardlink.ts` counts it). EBADF. */
  fstat(fd: number): Stat {
    const { fs, handle } = this.target(fd, "fstat");
    const stat = fs.fstat(handle);
    return fs === this.stack.upper ? upperStat(this.stack.upper, stat) : stat;
  }

  /** stat(2), following symlinks inside the union. ENOENT, ENOTDIR, ELOOP, EINVAL (`.wh.`). */
  stat(path: string): Stat {
    return this.existing(this.stack.resolve(path, true, "stat"), "stat", path).stat;
  }

  /** lstat(2). ENOENT, ENOTDIR, ELOOP, EINVAL (`.wh.`). */
  lstat(path: string): Stat {
    return this.existing(this.stack.resolve(path, false, "lstat"), "lstat", path).stat;
  }

  /** ftruncate(2). EINVAL (read-only handle), EBADF. */
  ftruncate(fd: number, length: number): void {
    const { fs, handle } = this.writableTarget(fd, "ftruncate", ERRNO.EINVAL);
    fs.ftruncate(handle, length);
  }

  /** truncate(2), following symlinks; a lower file is copied up first (without data for length 0). EISDIR, ENOENT. */
  truncate(path: string, length: number): void {
    const node = this.existing(this.stack.resolve(path, true, "truncate"), "truncate", path);
    if (isDir(node.stat)) throw new FsError(ERRNO.EISDIR, "truncate", path);
    if (!Number.isInteger(length) || length < 0) throw new FsError(ERRNO.EINVAL, "truncate", path);
    if (node.branch !== 0 && isRegular(node.stat)) copyUp(this.stack, node, length > 0);
    this.stack.upper.truncate(node.path, length);
  }

  /** fsync(2). EBADF. A lower's handle has nothing to sync (a lower is never written). */
  fsync(fd: number): void {
    const { fs, handle } = this.target(fd, "fsync");
    if (fs === this.stack.upper) this.stack.upper.fsync(handle);
  }

  /** fdatasync(2). EBADF. A lower's handle has nothing to sync. */
  fdatasync(fd: number): void {
    const { fs, handle } = this.target(fd, "fdatasync");
    if (fs === this.stack.upper) this.stack.upper.fdatasync(handle);
  }

  /** mkdir(2) in the upper; over a whiteout the new directory is opaque. EEXIST, ENOENT, ENOTDIR, EINVAL (`.wh.`). */
  mkdir(path: string, mode: number): void {
    const found = this.stack.resolve(path, false, "mkdir", true);
    if (found.node !== null || found.parent === null) throw new FsError(ERRNO.EEXIST, "mkdir", path);
    const parent = found.parent;
    copyUpDirectory(this.stack, parent.path);
    const target = childPath(parent.path, found.name);
    this.stack.upper.mkdir(target, mode);
    if (found.whiteout === 0) {
      this.createMarker(childPath(target, OPAQUE_MARKER));
      this.dropWhiteout(found, parent);
    }
  }

  /**
   * rmdir(2): removes the upper part (with the whiteouts in it) and whites out the rest. ENOTEMPTY (a visible entry
   * remains; also ".."), ENOTDIR, ENOENT, EINVAL ("."), EBUSY (the root), ENAMETOOLONG (see the module comment).
   */
  rmdir(path: string): void {
    const found = this.stack.resolve(path, false, "rmdir", true);
    if (found.name === "") throw new FsError(ERRNO.EBUSY, "rmdir", path);
    if (found.name === ".") throw new FsError(ERRNO.EINVAL, "rmdir", path);
    if (found.name === "..") throw new FsError(ERRNO.ENOTEMPTY, "rmdir", path);
    const node = this.existing(found, "rmdir", path);
    const parent = this.parentOf(found, "rmdir", path);
    if (!isDir(node.stat)) throw new FsError(ERRNO.ENOTDIR, "rmdir", path);
    if (hasEntries(this.stack, node)) throw new FsError(ERRNO.ENOTEMPTY, "rmdir", path);
    const hidesLower = this.stack.lowerHas(parent, found.name).node !== null;
    if (node.branch === 0) {
      this.clearUpperDir(node.path);
      // Whiteout first: while both exist the upper name wins, so no crash point ever shows the lower directory.
      if (hidesLower) this.createMarker(childPath(parent.path, whiteoutName(found.name)));
      this.stack.upper.rmdir(node.path);
      return;
    }
    copyUpDirectory(this.stack, parent.path);
    this.createMarker(childPath(parent.path, whiteoutName(found.name)));
  }

  /** unlink(2): removes the upper name and whites out a lower one. EISDIR, ENOENT, ENOTDIR, ENAMETOOLONG. */
  unlink(path: string): void {
    if (this.inUpperOnly(path, "unlink", (target) => this.stack.upper.unlink(target)) !== null) return;
    const found = this.stack.resolve(path, false, "unlink", true);
    const node = this.existing(found, "unlink", path);
    if (found.parent === null || isDir(node.stat)) throw new FsError(ERRNO.EISDIR, "unlink", path);
    if (found.trailingSlash) throw new FsError(ERRNO.ENOTDIR, "unlink", path);
    const parent = found.parent;
    const hidesLower = node.branch !== 0 || this.stack.lowerHas(parent, found.name).node !== null;
    if (node.branch === 0) {
      // Whiteout first (see rmdir).
      if (hidesLower) this.createMarker(childPath(parent.path, whiteoutName(found.name)));
      this.stack.upper.unlink(node.path);
      return;
    }
    copyUpDirectory(this.stack, parent.path);
    // A name of a hard-linked lower file: its other names keep the file, one link fewer (`hardlink.ts`).
    const entry = isIndexed(node) ? ensureIndex(this.stack, node) : null;
    this.createMarker(childPath(parent.path, whiteoutName(found.name)));
    if (entry !== null) dropLowerName(this.stack, entry);
  }

  /**
   * rename(2): a lower file is copied up, renamed in the upper and its old name whited out; a directory with a
   * lower part is copied up whole first (`copy-up-tree.ts`), or answers EXDEV with `renameDir: "exdev"` (overlayfs
   * without redirect_dir). Flags: RENAME_NOREPLACE only (EINVAL otherwise).
   * EEXIST, ENOTEMPTY, EISDIR, ENOTDIR, EINVAL (into itself), EBUSY (root, ".", ".."), ENOENT.
   */
  rename(from: string, to: string, flags: number): void {
    if ((flags & ~RENAME_NOREPLACE) !== 0) throw new FsError(ERRNO.EINVAL, "rename", from);
    // Neither name's trailing slash follows a symlink or checks the type here; the checks below do, in Linux's order.
    const source = this.stack.resolve(from, false, "rename", true);
    const target = this.stack.resolve(to, false, "rename", true);
    if (source.parent === null || target.parent === null) throw new FsError(ERRNO.EBUSY, "rename", from);
    const node = this.existing(source, "rename", from);
    const srcParent = source.parent;
    const dstParent = target.parent;
    const sourceIsDir = isDir(node.stat);
    const existing = target.node;
    const destination = childPath(dstParent.path, target.name);
    if (existing !== null && flags & RENAME_NOREPLACE) throw new FsError(ERRNO.EEXIST, "rename", to);
    if (!sourceIsDir && (source.trailingSlash || target.trailingSlash)) throw new FsError(ERRNO.ENOTDIR, "rename", to);
    if (existing !== null) {
      if (existing.path === node.path) return;
      // Two names of one file: nothing to do (an indexed lower name is its upper copy).
      const home = (n: Node) => (n.index !== undefined ? 0 : n.branch);
      if (home(existing) === home(node) && existing.stat.st_ino === node.stat.st_ino && existing.stat.st_dev === node.stat.st_dev) return;
    }
    // The source is an ancestor of the target: EINVAL; the target an ancestor of the source: ENOTEMPTY.
    if (sourceIsDir && destination !== node.path && isWithin(destination, node.path)) throw new FsError(ERRNO.EINVAL, "rename", from);
    if (existing !== null && isDir(existing.stat) && isWithin(node.path, existing.path)) throw new FsError(ERRNO.ENOTEMPTY, "rename", to);
    if (existing !== null) {
      if (sourceIsDir && !isDir(existing.stat)) throw new FsError(ERRNO.ENOTDIR, "rename", to);
      if (!sourceIsDir && isDir(existing.stat)) throw new FsError(ERRNO.EISDIR, "rename", to);
    }
    // overlayfs order: EXDEV for a directory with a lower part comes before the target's emptiness.
    const wholeTree = sourceIsDir && hasLowerPart(node);
    if (wholeTree && this.renameDir === "exdev") throw new FsError(ERRNO.EXDEV, "rename", from);
    if (existing !== null && isDir(existing.stat) && hasEntries(this.stack, existing)) {
      throw new FsError(ERRNO.ENOTEMPTY, "rename", to);
    }
    const sourceHidesLower = node.branch !== 0 || this.stack.lowerHas(srcParent, source.name).node !== null;
    const targetLower = this.stack.lowerHas(dstParent, target.name).node;
    // The whole tree is in the upper (and opaque) before anything of the rename happens: a crash shows the old view.
    if (wholeTree) copyUpTree(this.stack, node);
    // A replaced name of a hard-linked lower file: its other names keep the file, one link fewer.
    const replacedEntry = existing !== null && isIndexed(existing) ? ensureIndex(this.stack, existing) : null;
    copyUp(this.stack, node, true);
    copyUpDirectory(this.stack, dstParent.path);
    if (existing !== null && isDir(existing.stat) && existing.branch === 0) this.clearUpperDir(existing.path);
    if (sourceIsDir && targetLower !== null && isDir(targetLower.stat) && !this.stack.isOpaque(0, node.path)) {
      this.createMarker(childPath(node.path, OPAQUE_MARKER));
    }
    // The old name's whiteout goes first: until the rename, the upper name it shadows still wins.
    if (sourceHidesLower) this.createMarker(childPath(srcParent.path, whiteoutName(source.name)));
    this.stack.upper.rename(node.path, destination, 0);
    if (replacedEntry !== null) dropLowerName(this.stack, replacedEntry);
    if (target.whiteout === 0) this.dropWhiteout(target, dstParent);
  }

  /**
   * One batch of the merged listing of directory handle `fd` after `cookie` (hash cookies, see `readdir.ts`); empty
   * at the end. EBADF, ENOTDIR (a file handle).
   */
  readdir(fd: number, cookie: number): Dirent[] {
    const decoded = decodeHandle(fd);
    if (decoded === null) throw new FsError(ERRNO.EBADF, "readdir");
    if (decoded.kind === "file") return this.fileBranch(decoded.branch, "readdir").readdir(decoded.handle, cookie);
    if (!Number.isInteger(cookie) || cookie < 0) throw new FsError(ERRNO.EINVAL, "readdir");
    const slot = this.dirs.get(decoded.slot, decoded.generation);
    if (slot === null) throw new FsError(ERRNO.EBADF, "readdir");
    const kept = cookie === 0 ? undefined : this.windows.get(fd);
    if (kept !== undefined && cookie >= kept.after) {
      const rest = entriesAfter(kept.entries, cookie);
      if (rest.length > 0 || kept.last) return rest;
    }
    const batch = this.batchOf(slot.branch, slot.handle, slot.path, cookie);
    this.windows.delete(fd);
    if (this.windows.size >= WINDOWS_KEPT) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(fd, { after: cookie, entries: batch.entries, last: batch.last });
    return batch.entries;
  }

  /**
   * mknod(2) of a FIFO, socket, empty regular file or device numbered `rdev` in the upper, over a whiteout as a new
   * file is. EPERM (a device the upper may not make, S_IFDIR), EINVAL (other types, `.wh.`), EEXIST, ENOENT, ENOTDIR.
   */
  mknod(path: string, mode: number, rdev: number): void {
    mknodNode(mode, rdev, path);
    const found = this.stack.resolve(path, false, "mknod", true);
    if (found.node !== null || found.parent === null) throw new FsError(ERRNO.EEXIST, "mknod", path);
    if (found.trailingSlash) throw new FsError(ERRNO.ENOENT, "mknod", path);
    const parent = found.parent;
    copyUpDirectory(this.stack, parent.path);
    this.stack.upper.mknod(childPath(parent.path, found.name), mode, rdev);
    this.dropWhiteout(found, parent);
  }

  /** symlink(2) in the upper. EEXIST, ENOENT, ENOTDIR, EINVAL (`.wh.`). */
  symlink(target: string, path: string): void {
    const found = this.stack.resolve(path, false, "symlink", true);
    if (found.node !== null || found.parent === null) throw new FsError(ERRNO.EEXIST, "symlink", path);
    if (found.trailingSlash) throw new FsError(ERRNO.ENOENT, "symlink", path);
    const parent = found.parent;
    copyUpDirectory(this.stack, parent.path);
    this.stack.upper.symlink(target, childPath(parent.path, found.name));
    this.dropWhiteout(found, parent);
  }

  /** readlink(2). EINVAL (not a symlink, `.wh.`), ENOENT. */
  readlink(path: string): string {
    const node = this.existing(this.stack.resolve(path, false, "readlink"), "readlink", path);
    if (!isSymlink(node.stat)) throw new FsError(ERRNO.EINVAL, "readlink", path);
    return this.stack.branch(node.branch).readlink(node.path);
  }

  /** link(2): a lower file is copied up first, then linked in the upper. EEXIST, EPERM (directories), ENOENT. */
  link(existing: string, path: string): void {
    const source = this.stack.resolve(existing, false, "link");
    const node = this.existing(source, "link", existing);
    const target = this.stack.resolve(path, false, "link", true);
    if (target.node !== null || target.parent === null) throw new FsError(ERRNO.EEXIST, "link", path);
    if (target.trailingSlash) throw new FsError(ERRNO.ENOENT, "link", path);
    if (source.parent === null || isDir(node.stat)) throw new FsError(ERRNO.EPERM, "link", existing);
    const parent = target.parent;
    copyUp(this.stack, node, true);
    copyUpDirectory(this.stack, parent.path);
    this.stack.upper.link(node.path, childPath(parent.path, target.name));
    this.dropWhiteout(target, parent);
  }

  /** chmod(2), following symlinks; copies a lower object up first. ENOENT, EPERM. */
  chmod(path: string, mode: number): void {
    const node = this.copiedUp(this.stack.resolve(path, true, "chmod"), "chmod", path);
    this.stack.upper.chmod(node.path, mode);
  }

  /** chown; uid/gid -1 keep; AT_SYMLINK_NOFOLLOW acts on a final symlink. Copies up first. EPERM, ENOENT, EINVAL. */
  chown(path: string, uid: number, gid: number, flags: number): void {
    if ((flags & ~AT_SYMLINK_NOFOLLOW) !== 0) throw new FsError(ERRNO.EINVAL, "chown", path);
    const node = this.copiedUp(this.stack.resolve(path, (flags & AT_SYMLINK_NOFOLLOW) === 0, "chown"), "chown", path);
    this.stack.upper.chown(node.path, uid, gid, AT_SYMLINK_NOFOLLOW);
  }

  /** utimensat(2); AT_SYMLINK_NOFOLLOW acts on a final symlink. Copies up first. EPERM, ENOENT, EINVAL. */
  utimens(path: string, atime: Timespec, mtime: Timespec, flags: number): void {
    if ((flags & ~AT_SYMLINK_NOFOLLOW) !== 0) throw new FsError(ERRNO.EINVAL, "utimens", path);
    const node = this.copiedUp(this.stack.resolve(path, (flags & AT_SYMLINK_NOFOLLOW) === 0, "utimens"), "utimens", path);
    this.stack.upper.utimens(node.path, atime, mtime, AT_SYMLINK_NOFOLLOW);
  }

  /** access(2) against the owning branch's object. ENOENT, EACCES, EINVAL (mode). */
  access(path: string, mode: number): void {
    const node = this.existing(this.stack.resolve(path, true, "access"), "access", path);
    if (node.index !== undefined) return this.stack.upper.access(indexData(node.index), mode);
    this.stack.branch(node.branch).access(node.path, mode);
  }

  /** statfs(2): the upper's filesystem (where anything written goes). ENOENT, ENOTDIR. */
  statfs(path: string): Statfs {
    this.existing(this.stack.resolve(path, true, "statfs"), "statfs", path);
    return this.stack.upper.statfs("");
  }

  /** The node of a resolved path that must exist. ENOENT. */
  private existing(found: Resolved, syscall: string, path: string): Node {
    if (found.node === null) throw new FsError(ERRNO.ENOENT, syscall, path);
    return found.node;
  }

  /**
   * `call`'s result on the upper's name of `path` when the name is the upper's alone ({@link BranchStack.upperOnly}),
   * null when it is not or the call failed: the caller then takes the full lookup, which finds the errno the
   * union answers (a symlink to follow, given O_NOFOLLOW here, fails with ELOOP and is followed there). Only a failure
   * changes nothing, so the retry is safe.
   */
  private inUpperOnly<T>(path: string, syscall: string, call: (target: string) => T): { value: T } | null {
    const target = this.stack.upperOnly(path, syscall);
    if (target === null) return null;
    try {
      return { value: call(target) };
    } catch (error) {
      if (error instanceof FsError) return null;
      throw error;
    }
  }

  /** The directory a missing final name would be created in. EEXIST for the root, "." and "..". */
  private parentOf(found: Resolved, syscall: string, path: string): Node {
    if (found.parent === null) throw new FsError(ERRNO.EEXIST, syscall, path);
    return found.parent;
  }

  /** The object of `found` in the upper, copied up when it was lower (with its data). */
  private copiedUp(found: Resolved, syscall: string, path: string): Node {
    const node = this.existing(found, syscall, path);
    copyUp(this.stack, node, true);
    return node;
  }

  /** Removes the upper's whiteout of the name a create just made visible again. */
  private dropWhiteout(found: Resolved, parent: Node): void {
    if (found.whiteout !== 0) return;
    try {
      this.stack.upper.unlink(childPath(parent.path, whiteoutName(found.name)));
    } catch (error) {
      if (!(error instanceof FsError) || error.errno !== ERRNO.ENOENT) throw error;
    }
  }

  /** Creates an empty marker file (whiteout or opaque marker) in the upper; one already there is fine. */
  private createMarker(path: string): void {
    this.stack.upper.close(this.stack.upper.open(path, O.CREAT | O.WRONLY, 0o600));
  }

  /** Removes every reserved entry (whiteouts, markers, temp names) of upper directory `path` before it goes. */
  private clearUpperDir(path: string): void {
    const upper = this.stack.upper;
    const fd = upper.open(path, O.DIRECTORY, 0);
    let names: string[];
    try {
      names = readWholeDirectory(upper, fd).map((entry) => entry.name).filter(isReserved);
    } finally {
      upper.close(fd);
    }
    for (const name of names) {
      const entry = childPath(path, name);
      try {
        upper.unlink(entry);
      } catch (error) {
        if (!(error instanceof FsError) || error.errno !== ERRNO.EISDIR) throw error;
        this.clearUpperDir(entry);
        upper.rmdir(entry);
      }
    }
  }

  /**
   * The batch after `cookie` of an open directory: merged from its path while its branch directory is still one of
   * that path's layers, else its own branch's (it moved). Nothing of it is kept between calls (see `readdir.ts`).
   */
  private batchOf(branch: number, handle: number, path: string, cookie: number): Batch {
    const fs = this.stack.branch(branch);
    const own = fs.fstat(handle);
    let node: Node | null = null;
    try {
      node = this.stack.resolve(path, false, "readdir").node;
    } catch (error) {
      if (!(error instanceof FsError)) throw error;
    }
    if (node !== null && node.layers.includes(branch)) {
      // Still one of the merged directory's layers (a copy-up of the directory after the open adds an upper layer).
      const there = branch === node.branch ? node.stat : fs.lstat(node.path);
      if (there.st_ino === own.st_ino && there.st_dev === own.st_dev) return mergedBatch(this.stack, node, cookie);
    }
    return handleBatch(fs, handle, cookie);
  }

  /** The union file handle of branch handle `handle`; closes it and answers EMFILE when it does not fit. */
  private fileHandle(branch: number, handle: number): number {
    const fd = encodeFileHandle(branch, handle);
    if (fd < 0) {
      this.stack.branch(branch).close(handle);
      throw new FsError(ERRNO.EMFILE, "open");
    }
    return fd;
  }

  /** Records an open directory in the shared table; closes the branch handle and answers EMFILE when full. */
  private dirHandle(node: Node, handle: number): number {
    const entry = this.dirs.insert({ branch: node.branch, handle, path: node.path });
    if (entry === null) {
      this.stack.branch(node.branch).close(handle);
      throw new FsError(ERRNO.EMFILE, "open", node.path);
    }
    return encodeDirHandle(entry.slot, entry.generation);
  }

  /** The branch of a decoded file handle. EBADF. */
  private fileBranch(branch: number, syscall: string): ReadOnlyFileSystem {
    const fs = this.stack.branches[branch];
    if (fs === undefined) throw new FsError(ERRNO.EBADF, syscall);
    return fs;
  }

  /**
   * The upper and its handle behind union handle `fd`, for a call that writes: a handle of a lower was opened
   * read-only (a lower file is copied up before any open for writing), so it answers `refuse` as the kernel answers
   * such a call on a read-only descriptor (EBADF for a write, EINVAL for ftruncate). EBADF.
   */
  private writableTarget(fd: number, syscall: string, refuse: number): { fs: FileSystem; handle: number } {
    const { fs, handle } = this.target(fd, syscall);
    if (fs !== this.stack.upper) throw new FsError(refuse, syscall);
    return { fs: this.stack.upper, handle };
  }

  /** The branch and branch handle behind union handle `fd`. EBADF. */
  private target(fd: number, syscall: string): { fs: ReadOnlyFileSystem; handle: number } {
    const decoded = decodeHandle(fd);
    if (decoded === null) throw new FsError(ERRNO.EBADF, syscall);
    if (decoded.kind === "file") return { fs: this.fileBranch(decoded.branch, syscall), handle: decoded.handle };
    const slot = this.dirs.get(decoded.slot, decoded.generation);
    if (slot === null) throw new FsError(ERRNO.EBADF, syscall);
    return { fs: this.stack.branch(slot.branch), handle: slot.handle };
  }
}

