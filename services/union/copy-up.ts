/**
 * @module copy-up — bringing a lower object into the upper before it is changed.
 *
 * Parents first: every missing directory on the way is created in the upper with the mode, owner (when running as
 * root) and times of the directory it merges with. A file or symlink is copied under a temp name in its target
 * directory of the upper — `.wh..wh.copyup.<unique>`, which the union never lists and which hides no user name —
 * its data in {@link COPY_CHUNK} chunks (none for O_TRUNC) and synced, then its owner, mode and times, and only then
 * is it renamed to its final name (RENAME_NOREPLACE: when another thread or process copied it up first, that copy
 * wins). A crash at any point leaves either the lower view (plus an unlisted temp name, which
 * rmdir of the directory removes) or the complete copy. st_ino and st_dev change on copy-up (they are the upper's).
 */
import {
  AT_SYMLINK_NOFOLLOW, ERRNO, type FileSystem, FsError, O, type ReadOnlyFileSystem, RENAME_NOREPLACE, type Stat,
} from "../../kernel/ipc/protocol/index.ts";
import { isDir, isNodeOnly, isRegular, isSymlink, type BranchStack, type Node } from "./layer.ts";
import { isIndexed, linkUp } from "./hardlink.ts";
import { childPath } from "./path.ts";
import { META_PREFIX } from "./whiteout.ts";

/** Bytes copied per read/write during copy-up. */
export const COPY_CHUNK = 1 << 20;
/** Bytes asked of one in-service copy (the service copies at most 16 MiB per request; the loop asks again). */
const COPY_STEP = 64 * 1024 * 1024;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
let counter = 0;

/** A fresh temp name for directory `dir` of the upper: reserved (never listed) and unique across threads and processes. */
export function tempName(dir: string): string {
  const random = Math.floor(Math.random() * 0x100000000).toString(36);
  return childPath(dir, `${META_PREFIX}copyup.${process.pid}.${++counter}.${random}`);
}

/** Owner (as root) and times of `stat` onto `path` of `upper`, and its mode unless a symlink. */
export function copyAttributes(upper: FileSystem, path: string, stat: Stat): void {
  if (isRoot) upper.chown(path, stat.st_uid, stat.st_gid, AT_SYMLINK_NOFOLLOW);
  if (!isSymlink(stat)) upper.chmod(path, stat.st_mode & 0o7777);
  upper.utimens(
    path,
    { sec: stat.st_atime_sec, nsec: stat.st_atime_nsec },
    { sec: stat.st_mtime_sec, nsec: stat.st_mtime_nsec },
    AT_SYMLINK_NOFOLLOW,
  );
}


/**
 * Renames the finished copy `temp` onto `path` unless something is already there: another thread or process that
 * copied the same object up first wins (its copy may already hold new writes), and `temp` is discarded. Returns
 * whether `temp` was published. An upper without RENAME_NOREPLACE (EINVAL) gets a plain rename.
 */
export function publish(upper: FileSystem, temp: string, path: string, dir: boolean): boolean {
  try {
    upper.rename(temp, path, RENAME_NOREPLACE);
    return true;
  } catch (error) {
    if (!(error instanceof FsError)) throw error;
    if (error.errno === ERRNO.EEXIST) {
      discard(upper, temp, dir);
      return false;
    }
    if (error.errno !== ERRNO.EINVAL) throw error;
  }
  upper.rename(temp, path, 0);
  return true;
}

/** Removes a temp name after a failed copy; nothing more can be done if that fails too. */
export function discard(upper: FileSystem, temp: string, dir: boolean): void {
  try {
    if (dir) upper.rmdir(temp);
    else upper.unlink(temp);
  } catch {
    // A left-over temp name is never listed, and rmdir of its directory removes it.
  }
}

/**
 * Makes sure directory `path` (canonical) exists in the upper, creating it and every missing parent from the
 * topmost lower directory of the same path (mode, owner, times), each atomically through a temp name.
 * The caller has resolved `path` to a visible directory.
 */
export function copyUpDirectory(stack: BranchStack, path: string): void {
  if (path === "") return;
  const parts = path.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join("/");
    const upperStat = stack.lstatOrNull(0, prefix);
    if (upperStat !== null) {
      if (!isDir(upperStat)) throw new FsError(ERRNO.ENOTDIR, "copy-up", prefix);
      continue;
    }
    let source: Stat | null = null;
    for (let b = 1; b < stack.branches.length && source === null; b++) {
      const stat = stack.lstatOrNull(b, prefix);
      if (stat !== null && isDir(stat)) source = stat;
    }
    if (source === null) throw new FsError(ERRNO.ENOENT, "copy-up", prefix);
    const parent = parts.slice(0, i - 1).join("/");
    const temp = tempName(parent);
    stack.upper.mkdir(temp, 0o700);
    try {
      copyAttributes(stack.upper, temp, source);
      publish(stack.upper, temp, prefix, true);
    } catch (error) {
      discard(stack.upper, temp, true);
      throw error;
    }
  }
}

/** The parent directory of canonical `path`. */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

/**
 * Copies the lower file or symlink `node` into the upper at the same path (see the module comment); `data` false
 * copies no content (open with O_TRUNC). A directory is copied up as {@link copyUpDirectory}; a FIFO, socket or device
 * by mknod, a device with its number (EPERM when the upper may not make devices). Returns at once when `node` is
 * already in the upper.
 */
export function copyUp(stack: BranchStack, node: Node, data: boolean): void {
  if (node.branch === 0) return;
  if (isDir(node.stat)) return copyUpDirectory(stack, node.path);
  // A hard-linked lower file goes through the index, so that its other names keep showing the same file.
  if (isIndexed(node)) return linkUp(stack, node, data);
  const dir = parentOf(node.path);
  copyUpDirectory(stack, dir);
  const upper = stack.upper;
  const lower = stack.branch(node.branch);
  const temp = tempName(dir);
  if (isSymlink(node.stat)) {
    upper.symlink(lower.readlink(node.path), temp);
  } else if (isRegular(node.stat)) {
    const out = upper.open(temp, O.CREAT | O.EXCL | O.WRONLY, 0o600);
    try {
      if (data) {
        copyData(lower, node.path, upper, out);
        // The rename below must never publish a name whose data a power loss could still lose.
        upper.fdatasync(out);
      }
    } catch (error) {
      upper.close(out);
      discard(upper, temp, false);
      throw error;
    }
    upper.close(out);
  } else if (isNodeOnly(node.stat)) {
    upper.mknod(temp, (node.stat.st_mode & ~0o7777) | 0o600, node.stat.st_rdev);
  } else {
    throw new FsError(ERRNO.EOPNOTSUPP, "copy-up", node.path);
  }
  try {
    copyAttributes(upper, temp, node.stat);
    publish(upper, temp, node.path, false);
  } catch (error) {
    discard(upper, temp, false);
    throw error;
  }
}

/**
 * Copies the whole content of `path` in `lower` to the open upper handle `out`: inside the service below when the
 * upper can copy from the lower there (both branches served by one client-cache process: the bytes never come up to
 * the union), else a chunk at a time through this process.
 */
export function copyData(lower: ReadOnlyFileSystem, path: string, upper: FileSystem, out: number): void {
  const input = lower.open(path, 0, 0);
  try {
    let copied = upper.copyFrom?.(out, 0, lower, input, 0, COPY_STEP);
    if (copied !== undefined) {
      // Whether it can copy from `lower` does not change from one call to the next.
      for (let offset = copied; copied !== 0; offset += copied) copied = upper.copyFrom!(out, offset, lower, input, offset, COPY_STEP)!;
      return;
    }
    const chunk = new Uint8Array(COPY_CHUNK);
    for (let offset = 0; ; ) {
      const count = lower.pread(input, chunk, offset);
      if (count === 0) break;
      for (let written = 0; written < count; ) written += upper.pwrite(out, chunk.subarray(written, count), offset + written);
      offset += count;
    }
  } finally {
    lower.close(input);
  }
}
