/** @module linux — the Linux x86-64 flag values the cache looks at in open flags, modes and whence arguments. */

/** open(2) flags. */
export const O = {
  ACCMODE: 0o3,
  WRONLY: 0o1,
  RDWR: 0o2,
  CREAT: 0o100,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  /** O_DSYNC; O_SYNC is O_DSYNC | 0o4000000, so this bit is set for both. */
  DSYNC: 0o10000,
  DIRECT: 0o40000,
  PATH: 0o10000000,
} as const;

/** File type bits of st_mode. */
export const S_IFMT = 0o170000;
/** The regular file type. */
export const S_IFREG = 0o100000;

/** lseek(2) whences. */
export const SEEK = { SET: 0, CUR: 1, END: 2, DATA: 3, HOLE: 4 } as const;

/** renameat2(2) flag that swaps the two names (nothing is removed). */
export const RENAME_EXCHANGE = 2;
/** utimensat(2) flag acting on a final symlink itself. */
export const AT_SYMLINK_NOFOLLOW = 0x100;
