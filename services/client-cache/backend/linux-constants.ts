/** @module linux-constants — the Linux x86-64 open flags, file types and lseek whences the local backend passes to the kernel. */

/** `O_*` open flags (x86-64 values; O_PATH and O_TMPFILE are not in `node:fs` constants). */
export const O = {
  RDONLY: 0,
  WRONLY: 0o1,
  RDWR: 0o2,
  CREAT: 0o100,
  NOCTTY: 0o400,
  NONBLOCK: 0o4000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  CLOEXEC: 0o2000000,
  PATH: 0o10000000,
  TMPFILE: 0o20200000,
} as const;

/** File type bits of `st_mode`. */
export const S_IFMT = 0o170000;
/** `st_mode` type of a symbolic link. */
export const S_IFLNK = 0o120000;

/** lseek(2) whence values. */
export const SEEK = { SET: 0, CUR: 1, END: 2 } as const;

/** fcntl(2) command reading the open-file status flags, and the fcntl syscall number. */
export const F_GETFL = 3;
/** x86-64 syscall number of fcntl(2) (glibc's wrapper is variadic). */
export const SYS_FCNTL = 72;

/** access(2) mode: existence only. */
export const F_OK = 0;
