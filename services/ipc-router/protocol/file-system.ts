/**
 * @module file-system — the typed channel as a TypeScript interface: one filesystem instance (one mount), called the
 * same way whether it runs in this thread (the local backend, the union, the cache) or across a process over the
 * shared-memory ring (the client). Paths are relative to the instance's root ("/" or "" is the root itself). A path
 * may be longer than one syscall argument (PATH_MAX): every implementation serves paths shorter than DANAUS_PATH_MAX
 * bytes (payload.ts) and answers ENAMETOOLONG for longer ones, and for a name over 255 bytes (NAME_MAX).
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

/**
 * The file type a {@link FileSystem.mknod} of `mode` creates: S_IFIFO, S_IFSOCK or S_IFREG (also for type 0, as
 * mknod(2)). Throws FsError EPERM for S_IFCHR and S_IFBLK (no device nodes on shared tenant storage: a tenant could
 * otherwise hand a device to every host mounting it), EPERM for S_IFDIR and EINVAL for any other type (symlinks,
 * unknown bits), as Linux answers those. Every implementation checks this first, so all answer alike.
 */
export function mknodType(mode: number, path: string): number {
  const type = mode & S_IFMT;
  if (type === 0 || type === S_IFREG) return S_IFREG;
  if (type === S_IFIFO || type === S_IFSOCK) return type;
  throw new FsError(type === S_IFCHR || type === S_IFBLK || type === S_IFDIR ? ERRNO.EPERM : ERRNO.EINVAL, "mknod", path);
}

/**
 * One filesystem instance. Methods are synchronous and either return a value or throw {@link FsError}. File handles
 * are small non-negative integers private to the instance. Flags, modes and whence values are Linux's.
 */
export interface FileSystem {
  /**
   * open(2): returns a handle. EEXIST, ENOENT, ENOTDIR, EISDIR, ELOOP (O_NOFOLLOW), EACCES... Never waits for
   * another process: a FIFO is opened as a node only (see {@link fifoNode}), a socket answers ENXIO as open(2) does,
   * and a device node EACCES (every danaus mount is `nodev`).
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
  /** mkdir(2). EEXIST, ENOENT, ENOTDIR. */
  mkdir(path: string, mode: number): void;
  /**
   * mknod(2) without devices: creates `path` as a FIFO (`S_IFIFO`), a socket (`S_IFSOCK`) or, for `S_IFREG` or type
   * 0, an empty regular file, with the permission bits of `mode` less the umask (as mkdir). Device nodes on shared
   * tenant storage are refused: `S_IFCHR` and `S_IFBLK` answer EPERM (see {@link mknodType}); so does `S_IFDIR`, and
   * any other type EINVAL, as in Linux. EEXIST, ENOENT, ENOTDIR.
   */
  mknod(path: string, mode: number): void;
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
}
