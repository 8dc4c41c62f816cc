/**
 * @module linux — the Linux x86-64 open flags, file types, lseek whences and *at/rename flags the FileSystem interface
 * speaks, declared once for every layer (backends, cache, union, images, FUSE server, client).
 */

/** `O_*` open flags (x86-64 values; O_PATH and O_TMPFILE are not in `node:fs` constants), for every backend and the cache. */
export const O = {
  ACCMODE: 0o3,
  RDONLY: 0,
  WRONLY: 0o1,
  RDWR: 0o2,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  /** O_DSYNC; O_SYNC is O_DSYNC | 0o4000000, so this bit is set for both. */
  DSYNC: 0o10000,
  DIRECT: 0o40000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  CLOEXEC: 0o2000000,
  SYNC: 0o4010000,
  PATH: 0o10000000,
  TMPFILE: 0o20200000,
} as const;

/** File type bits of `st_mode`. */
export const S_IFMT = 0o170000;
/** `st_mode` type of a directory. */
export const S_IFDIR = 0o040000;
/** `st_mode` type of a regular file. */
export const S_IFREG = 0o100000;
/** `st_mode` type of a symbolic link. */
export const S_IFLNK = 0o120000;
/** `st_mode` type of a FIFO. */
export const S_IFIFO = 0o010000;
/** `st_mode` type of a socket. */
export const S_IFSOCK = 0o140000;
/** `st_mode` type of a character device. */
export const S_IFCHR = 0o020000;
/** `st_mode` type of a block device. */
export const S_IFBLK = 0o060000;
/**
 * makedev(3): the device number of `major`:`minor` (a major below 2^12, a minor below 2^20, as Linux's dev_t) in
 * glibc's encoding, which is also what stat(2) reports and mknod(2) takes.
 */
export function makedev(major: number, minor: number): number {
  return (((major & 0xfff) << 8) | (minor & 0xff) | ((minor & 0xfff00) << 12)) >>> 0;
}

/** Whether `mode` is a character or block device's. */
export function isDeviceMode(mode: number): boolean {
  const type = mode & S_IFMT;
  return type === S_IFCHR || type === S_IFBLK;
}
/** Set-group-ID bit of `st_mode` (on a directory: new entries take its group). */
export const S_ISGID = 0o2000;

/** lseek(2) whence values. */
export const SEEK = { SET: 0, CUR: 1, END: 2, DATA: 3, HOLE: 4 } as const;

/** renameat2(2) flag that refuses to replace an existing name (EEXIST). */
export const RENAME_NOREPLACE = 1;
/** renameat2(2) flag that swaps the two names (nothing is removed). */
export const RENAME_EXCHANGE = 2;
/** utimensat(2) flag acting on a final symlink itself. */
export const AT_SYMLINK_NOFOLLOW = 0x100;

/** fcntl(2) command reading the open-file status flags, and the fcntl syscall number. */
export const F_GETFL = 3;
/** x86-64 syscall number of fcntl(2) (glibc's wrapper is variadic). */
export const SYS_FCNTL = 72;

/** access(2) mode: existence only. */
export const F_OK = 0;
