/** @module linux — the Linux x86-64 flag and mode values the cephfs backend checks itself (libcephfs takes raw Linux values). */

/** `O_*` open flags. */
export const O = {
  ACCMODE: 0o3,
  RDONLY: 0o0,
  WRONLY: 0o1,
  RDWR: 0o2,
  CREAT: 0o100,
  EXCL: 0o200,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  DSYNC: 0o10000,
  DIRECT: 0o40000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  SYNC: 0o4010000,
  PATH: 0o10000000,
  TMPFILE: 0o20200000,
} as const;

/** The open flags handed on to ceph_ll_open / ceph_ll_create; the others are acted on by the backend itself. */
export const CEPH_OPEN_FLAGS = O.ACCMODE | O.TRUNC | O.APPEND | O.DSYNC | O.DIRECT | O.SYNC;

/** File type bits of a mode and the types the backend tells apart. */
export const S = { IFMT: 0o170000, IFDIR: 0o040000, IFREG: 0o100000, IFLNK: 0o120000 } as const;

/** lseek(2) whence values. */
export const SEEK = { SET: 0, CUR: 1, END: 2 } as const;

/** The *at flag acting on a final symlink itself. */
export const AT_SYMLINK_NOFOLLOW = 0x100;

/** access(2) mode bits. */
export const ACCESS = { F_OK: 0, X_OK: 1, W_OK: 2, R_OK: 4 } as const;

/** Longest name of one path component in bytes (NAME_MAX): longer ones fail with ENAMETOOLONG. */
export const NAME_MAX = 255;
/** Size of the longest path including its NUL (PATH_MAX): a path of this many bytes fails with ENAMETOOLONG. */
export const PATH_MAX = 4096;

/** Most symlinks one lookup follows before failing with ELOOP (MAXSYMLINKS). */
export const MAX_SYMLINKS = 40;

/** True when `mode` is a directory. */
export function isDirectory(mode: number): boolean {
  return (mode & S.IFMT) === S.IFDIR;
}

/** True when `mode` is a symbolic link. */
export function isSymlink(mode: number): boolean {
  return (mode & S.IFMT) === S.IFLNK;
}
