/** @module flags — the bit flags and constants of the FUSE kernel ABI (`<linux/fuse.h>`), by their kernel names. */

/** The protocol major version (7 since 2005). */
export const FUSE_KERNEL_VERSION = 7;
/** nodeid of the mount's root directory. */
export const FUSE_ROOT_ID = 1;
/** The kernel refuses read buffers smaller than this. */
export const FUSE_MIN_READ_BUFFER = 8192;

/** INIT flags (`fuse_init_in.flags` / `fuse_init_out.flags`, bits 0..31). */
export const FUSE_INIT_FLAG = {
  FUSE_ASYNC_READ: 1 << 0,
  FUSE_POSIX_LOCKS: 1 << 1,
  FUSE_FILE_OPS: 1 << 2,
  FUSE_ATOMIC_O_TRUNC: 1 << 3,
  FUSE_EXPORT_SUPPORT: 1 << 4,
  FUSE_BIG_WRITES: 1 << 5,
  FUSE_DONT_MASK: 1 << 6,
  FUSE_SPLICE_WRITE: 1 << 7,
  FUSE_SPLICE_MOVE: 1 << 8,
  FUSE_SPLICE_READ: 1 << 9,
  FUSE_FLOCK_LOCKS: 1 << 10,
  FUSE_HAS_IOCTL_DIR: 1 << 11,
  FUSE_AUTO_INVAL_DATA: 1 << 12,
  FUSE_DO_READDIRPLUS: 1 << 13,
  FUSE_READDIRPLUS_AUTO: 1 << 14,
  FUSE_ASYNC_DIO: 1 << 15,
  FUSE_WRITEBACK_CACHE: 1 << 16,
  FUSE_NO_OPEN_SUPPORT: 1 << 17,
  FUSE_PARALLEL_DIROPS: 1 << 18,
  FUSE_HANDLE_KILLPRIV: 1 << 19,
  FUSE_POSIX_ACL: 1 << 20,
  FUSE_ABORT_ERROR: 1 << 21,
  FUSE_MAX_PAGES: 1 << 22,
  FUSE_CACHE_SYMLINKS: 1 << 23,
  FUSE_NO_OPENDIR_SUPPORT: 1 << 24,
  FUSE_EXPLICIT_INVAL_DATA: 1 << 25,
  FUSE_MAP_ALIGNMENT: 1 << 26,
  FUSE_SUBMOUNTS: 1 << 27,
  FUSE_HANDLE_KILLPRIV_V2: 1 << 28,
  FUSE_SETXATTR_EXT: 1 << 29,
  FUSE_INIT_EXT: 1 << 30,
  FUSE_INIT_RESERVED: 2 ** 31,
} as const;

/** INIT flags of `flags2` (bits 32..63, sent when both sides set FUSE_INIT_EXT), as bits of `flags2`. */
export const FUSE_INIT_FLAG2 = {
  /** Bit 36 (Linux 6.6, first named FUSE_DIRECT_IO_RELAX): shared mmap of files opened with FOPEN_DIRECT_IO. */
  FUSE_DIRECT_IO_ALLOW_MMAP: 1 << (36 - 32),
} as const;

/** `fuse_open_out.open_flags`. */
export const FOPEN = {
  FOPEN_DIRECT_IO: 1 << 0,
  FOPEN_KEEP_CACHE: 1 << 1,
  FOPEN_NONSEEKABLE: 1 << 2,
  FOPEN_CACHE_DIR: 1 << 3,
  FOPEN_STREAM: 1 << 4,
  FOPEN_NOFLUSH: 1 << 5,
  FOPEN_PARALLEL_DIRECT_WRITES: 1 << 6,
} as const;

/** `fuse_setattr_in.valid` bits. */
export const FATTR = {
  MODE: 1 << 0,
  UID: 1 << 1,
  GID: 1 << 2,
  SIZE: 1 << 3,
  ATIME: 1 << 4,
  MTIME: 1 << 5,
  FH: 1 << 6,
  ATIME_NOW: 1 << 7,
  MTIME_NOW: 1 << 8,
  LOCKOWNER: 1 << 9,
  CTIME: 1 << 10,
  KILL_SUIDGID: 1 << 11,
} as const;

/** `fuse_out_header.error` of a notification (unique 0) that invalidates a node's attributes and pages (`fuse_notify_code`). */
export const FUSE_NOTIFY_INVAL_INODE = 2;
/** `fuse_out_header.error` of a notification that drops the kernel's cached entry of one name (`fuse_notify_code`). */
export const FUSE_NOTIFY_INVAL_ENTRY = 3;
/** `fuse_getattr_in.getattr_flags`: `fh` is valid. */
export const FUSE_GETATTR_FH = 1 << 0;
/** `fuse_fsync_in.fsync_flags`: only the data (fdatasync). */
export const FUSE_FSYNC_FDATASYNC = 1 << 0;
/** `fuse_release_in.release_flags`. */
export const FUSE_RELEASE_FLUSH = 1 << 0;
/** `fuse_in_header.unique` bit marking an interrupt request (kernel's FUSE_INT_REQ_BIT). */
export const FUSE_INT_REQ_BIT = 1;

/** Sizes of requests that older protocol minors use (`FUSE_COMPAT_*`). */
export const FUSE_COMPAT = {
  ENTRY_OUT_SIZE: 120,
  ATTR_OUT_SIZE: 96,
  MKNOD_IN_SIZE: 8,
  WRITE_IN_SIZE: 24,
  STATFS_SIZE: 48,
  INIT_OUT_SIZE: 8,
  INIT_22_OUT_SIZE: 24,
} as const;
