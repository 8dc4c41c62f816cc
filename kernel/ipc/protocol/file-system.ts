/**
 * @module file-system — the typed channel as a TypeScript interface: one filesystem instance (one mount), called the
 * same way whether it runs in this thread (the local backend, the union, the cache) or across a process over the
 * shared-memory ring (the client). Paths are relative to the instance's root ("/" or "" is the root itself). A path
 * may be longer than one syscall argument (PATH_MAX): every implementation serves a path of any length (what one
 * request window cannot carry is staged, see payload.ts) and answers ENAMETOOLONG for a name over 255 bytes (NAME_MAX).
 */
import type { Dirent } from "./dirent.ts";
import { ERRNO, errnoName } from "./errno.ts";
import { escapeName } from "./names.ts";
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK } from "./linux.ts";
import type { Stat } from "./stat.ts";
import type { Statfs } from "./statfs.ts";

/** A point in time for utimens: seconds and nanoseconds, or the special nsec values UTIME_NOW / UTIME_OMIT. */
export interface Timespec {
  readonly sec: number;
  readonly nsec: number;
}

/** `nsec` value meaning "now" (Linux UTIME_NOW). */
export const UTIME_NOW = (1 << 30) - 1;
/** `nsec` value meaning "leave unchanged" (Linux UTIME_OMIT). */
export const UTIME_OMIT = (1 << 30) - 2;

/** A failed operation: its errno (positive) and where it happened. Every FileSystem method throws only this for I/O errors. */
export class FsError extends Error {
  override readonly name = "FsError";
  /** The errno name ("ENOENT"), like Node's `code`. */
  readonly code: string;

  /** @param path the path as given (a byte string inside danaus); the message shows it escaped (see escapeName). */
  constructor(readonly errno: number, readonly syscall: string, readonly path?: string) {
    const code = errnoName(errno) ?? `E${errno}`;
    super(`${code}: ${syscall}${path === undefined ? "" : ` '${escapeName(path)}'`}`);
    this.code = code;
  }
}

/** The largest device number {@link FileSystem.mknod} takes: Linux's dev_t has a 12-bit major and a 20-bit minor. */
export const MAX_RDEV = 0xffffffff;

/** What a {@link FileSystem.mknod} creates: the file type and the device number it stores (0 unless a device). */
export interface MknodNode {
  readonly type: number;
  readonly rdev: number;
}

/**
 * What a {@link FileSystem.mknod} of `mode` and `rdev` creates: S_IFIFO, S_IFSOCK, S_IFREG (also for type 0, as
 * mknod(2)), or a device, S_IFCHR or S_IFBLK, numbered `rdev` (makedev(3)'s encoding; ignored for the other types).
 * Throws FsError EPERM for S_IFDIR, EINVAL for any other type (symlinks, unknown bits) or a device number that is not
 * one, as Linux answers those. Every implementation checks this first, so all answer alike. Whether the caller may
 * make a device (CAP_MKNOD) is checked later: by the host kernel (the local backend), by the cephfs backend itself
 * (libcephfs and the MDS do not), and by the kernel before a FUSE request.
 */
export function mknodNode(mode: number, rdev: number, path: string): MknodNode {
  const type = mode & S_IFMT;
  if (type === 0 || type === S_IFREG) return { type: S_IFREG, rdev: 0 };
  if (type === S_IFIFO || type === S_IFSOCK) return { type, rdev: 0 };
  if (type === S_IFCHR || type === S_IFBLK) {
    if (!Number.isInteger(rdev) || rdev < 0 || rdev > MAX_RDEV) throw new FsError(ERRNO.EINVAL, "mknod", path);
    return { type, rdev };
  }
  throw new FsError(type === S_IFDIR ? ERRNO.EPERM : ERRNO.EINVAL, "mknod", path);
}

/**
 * One filesystem instance. Methods are synchronous and either return a value or throw {@link FsError}. File handles
 * are small non-negative integers private to the instance. Flags, modes and whence values are Linux's.
 */
export interface FileSystem {
  /**
   * open(2): returns a handle; O_CREAT makes the file with `mode`'s 07777 bits (no umask: see {@link mknod}). EEXIST,
   * ENOENT, ENOTDIR, EISDIR, ELOOP (O_NOFOLLOW), EACCES... Never waits for another process: a FIFO is opened as a
   * node only (see {@link fifoNode}), a socket answers ENXIO as open(2) does, and a device node EACCES (every danaus
   * mount is `nodev`).
   */
  open(path: string, flags: number, mode: number): number;
  /**
   * For a handle whose file is a FIFO: an O_PATH kernel descriptor of a pipe node, in this process, that the caller
   * reopens with its own flags (through `/proc/<pid>/fd/<fd>`), so the pipe's data and its open's wait for a partner
   * go through the kernel, never through a service thread. -1 for every other handle. EBADF.
   */
  fifoNode(fd: number): number;
  /** Releases a handle. EBADF. */
  close(fd: number): void;
  /** Reads up to `into.length` bytes at `offset`; returns the count (0 at end of file). EBADF, EISDIR. */
  pread(fd: number, into: Uint8Array, offset: number): number;
  /** Writes `data` at `offset` (at the end for O_APPEND handles); returns the count. EBADF, EFBIG, ENOSPC. */
  pwrite(fd: number, data: Uint8Array, offset: number): number;
  /** Reads at the handle's own position and advances it. */
  read(fd: number, into: Uint8Array): number;
  /** Writes at the handle's own position (or the end for O_APPEND) and advances it. */
  write(fd: number, data: Uint8Array): number;
  /** Moves the handle's position (SEEK_SET 0, SEEK_CUR 1, SEEK_END 2); returns it. EINVAL. */
  lseek(fd: number, offset: number, whence: number): number;
  /** stat of an open handle. */
  fstat(fd: number): Stat;
  /** stat, following a final symlink. ENOENT, ENOTDIR, ELOOP. */
  stat(path: string): Stat;
  /** stat of the name itself. */
  lstat(path: string): Stat;
  /** Sets an open file's size. EINVAL, EBADF. */
  ftruncate(fd: number, length: number): void;
  /** Sets a file's size by path. EISDIR, ENOENT. */
  truncate(path: string, length: number): void;
  /** Flushes data and metadata of an open file to stable storage. */
  fsync(fd: number): void;
  /** Flushes the data of an open file. */
  fdatasync(fd: number): void;
  /** mkdir(2) with the permission and sticky bits of `mode` (no umask: see {@link mknod}). EEXIST, ENOENT, ENOTDIR. */
  mkdir(path: string, mode: number): void;
  /**
   * mknod(2): creates `path` as a FIFO (`S_IFIFO`), a socket (`S_IFSOCK`), a character or block device (`S_IFCHR`,
   * `S_IFBLK`) numbered `rdev` (makedev(3)'s encoding, ignored for other types) or, for `S_IFREG` or type 0, an empty
   * regular file, with the permission bits of `mode`. A filesystem applies no umask of its own: the caller's is its
   * front end's to apply (the kernel's, the client library's); the local backend's system calls take their process's,
   * which in a service process is 0. A device is made only when the storage lets the service make one (EPERM otherwise, as mknod(2)
   * without CAP_MKNOD: a tenant service running as its own user makes none); it is stored, listed and stat'ed with its
   * number, but never opened (see {@link open}). `S_IFDIR` answers EPERM, any other type EINVAL, as in Linux (see
   * {@link mknodNode}). EEXIST, ENOENT, ENOTDIR.
   */
  mknod(path: string, mode: number, rdev: number): void;
  /** rmdir(2). ENOTEMPTY, ENOTDIR, EBUSY (the root). */
  rmdir(path: string): void;
  /** unlink(2). EISDIR, ENOENT. */
  unlink(path: string): void;
  /** renameat2(2); flags RENAME_NOREPLACE 1, RENAME_EXCHANGE 2. EXDEV, EEXIST, ENOTEMPTY, EINVAL. */
  rename(from: string, to: string, flags: number): void;
  /**
   * One batch of entries of an open directory, starting after `cookie` (0 = from the start), without "." and "..";
   * an empty batch means the end. Each entry's `next` continues the listing after it. `maxBytes` hints how much the
   * caller can take (about the bytes of encoded entries); a batch may be shorter, and an implementation may ignore it.
   */
  readdir(fd: number, cookie: number, maxBytes?: number): Dirent[];
  /** Creates `path` as a symlink holding `target` verbatim. EEXIST. */
  symlink(target: string, path: string): void;
  /** The target stored in a symlink. EINVAL if not a symlink. */
  readlink(path: string): string;
  /** link(2): a new name for an existing file. EEXIST, EPERM (directories). */
  link(existing: string, path: string): void;
  /** chmod(2), following symlinks. */
  chmod(path: string, mode: number): void;
  /** chown; uid/gid -1 keep; flags AT_SYMLINK_NOFOLLOW (0x100) changes the link itself. */
  chown(path: string, uid: number, gid: number, flags: number): void;
  /** utimensat(2); flags AT_SYMLINK_NOFOLLOW. */
  utimens(path: string, atime: Timespec, mtime: Timespec, flags: number): void;
  /** access(2) with F_OK 0 / R_OK 4 / W_OK 2 / X_OK 1 for the service's credentials. EACCES, ENOENT. */
  access(path: string, mode: number): void;
  /** statfs(2) of the filesystem holding `path`. */
  statfs(path: string): Statfs;
  /**
   * copy_file_range(2) between two instances, where one can do it without the bytes passing through the caller:
   * copies up to `count` bytes of `input` (a handle of `source`) from `inOffset` to this instance's `fd` at `offset`;
   * returns the bytes copied (short, or 0, at the end of `input`), or undefined when this instance cannot copy from
   * `source` (the caller then copies through pread and pwrite). Optional: the channel client has it, so a union in
   * its own process copies a file up inside the client-cache process.
   */
  copyFrom?(fd: number, offset: number, source: ReadOnlyFileSystem, input: number, inOffset: number, count: number): number | undefined;
}

/** The calls of {@link FileSystem} that never change a file or a name. */
export const READ_ONLY_CALLS = ["open", "fifoNode", "close", "pread", "read", "lseek", "fstat", "stat", "lstat", "readdir", "readlink", "access", "statfs"] as const;

/**
 * A filesystem only read from, such as a union's lower branch (an image layer several clones share): the calls that
 * never change a file or a name. `open` stays, for reading: a lower is opened read-only (the union copies a file up
 * before any open for writing), which the type cannot express and the union's own tests check.
 */
export type ReadOnlyFileSystem = Pick<FileSystem, (typeof READ_ONLY_CALLS)[number]>;
