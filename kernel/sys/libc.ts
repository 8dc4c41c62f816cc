/** @module libc — the few libc calls danaus needs that Bun does not expose, bound once through bun:ffi. */
import { dlopen, FFIType, ptr, read } from "bun:ffi";

const lib = dlopen("libc.so.6", {
  __errno_location: { args: [], returns: FFIType.ptr },
  prctl: { args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
  getppid: { args: [], returns: FFIType.i32 },
  syscall: {
    args: [FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64],
    returns: FFIType.i64_fast,
  },
  sched_getaffinity: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
  sched_setaffinity: { args: [FFIType.i32, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
  sched_getcpu: { args: [], returns: FFIType.i32 },
});

/** The calling thread's errno, read right after a failed call (the pointer is per thread). */
export function errno(): number {
  const address = lib.symbols.__errno_location();
  return address === null ? 0 : read.i32(address, 0);
}

const PR_SET_PDEATHSIG = 1;

/**
 * Ask the kernel to send `signal` to this process when its parent thread exits.
 * Returns false when the parent is already gone (the caller should exit), true otherwise.
 */
export function setParentDeathSignal(signal: number, expectedParent: number): boolean {
  if (lib.symbols.prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0) !== 0) {
    throw new Error(`prctl(PR_SET_PDEATHSIG) failed: errno ${errno()}`);
  }
  return lib.symbols.getppid() === expectedParent;
}

/** The cores this thread may run on, as sorted core ids (sched_getaffinity). */
export function allowedCpus(): number[] {
  const mask = new Uint8Array(128);
  if (lib.symbols.sched_getaffinity(0, mask.byteLength, ptr(mask)) !== 0) {
    throw new Error(`sched_getaffinity failed: errno ${errno()}`);
  }
  const cpus: number[] = [];
  for (let byte = 0; byte < mask.length; byte++) {
    for (let bit = 0; bit < 8; bit++) if (mask[byte]! & (1 << bit)) cpus.push(byte * 8 + bit);
  }
  return cpus;
}

/**
 * Pins the calling thread (not the whole process: from a Worker this pins just that Worker) to `cpus`.
 * Returns 0, or the errno (EINVAL when none of the cores is allowed, e.g. outside the pool's cpuset).
 */
export function pinThread(cpus: readonly number[]): number {
  const mask = new Uint8Array(128);
  for (const cpu of cpus) if (cpu >= 0 && cpu < mask.length * 8) mask[cpu >> 3]! |= 1 << (cpu & 7);
  return lib.symbols.sched_setaffinity(0, mask.byteLength, ptr(mask)) === 0 ? 0 : errno();
}

/** The core the calling thread runs on right now (sched_getcpu), or -1. */
export function currentCpu(): number {
  return lib.symbols.sched_getcpu();
}

/** Raw syscall(2); returns the kernel's result (negative values are -1 with errno set). */
export function syscall(nr: number, a = 0, b = 0, c = 0, d = 0, e = 0, f = 0): number {
  return lib.symbols.syscall(nr, a, b, c, d, e, f) as number;
}

const memoryLib = dlopen("libc.so.6", {
  mmap: {
    args: [FFIType.u64, FFIType.u64, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i64],
    returns: FFIType.i64_fast,
  },
  munmap: { args: [FFIType.u64, FFIType.u64], returns: FFIType.i32 },
});

/** mmap(2) protection and flag bits (Linux x86-64). */
export const MMAP = { PROT_READ: 1, PROT_WRITE: 2, MAP_SHARED: 1 } as const;

/**
 * Raw mmap(2): returns the mapping's address, or -1 (MAP_FAILED) with errno set (read it with `errno()`).
 * Never munmap a mapping that a `toArrayBuffer` view still covers: the process dies with SIGSEGV.
 */
export function mmap(address: number, length: number, prot: number, flags: number, fd: number, offset: number): number {
  return memoryLib.symbols.mmap(address, length, prot, flags, fd, offset) as number;
}

/** Raw munmap(2): 0, or -1 with errno set. The caller guarantees that no view over the range is ever read again. */
export function munmap(address: number, length: number): number {
  return memoryLib.symbols.munmap(address, length) as number;
}

const fileLib = dlopen("libc.so.6", {
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
  write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
  pread64: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i64], returns: FFIType.i64_fast },
  pwrite64: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i64], returns: FFIType.i64_fast },
  lseek64: { args: [FFIType.i32, FFIType.i64, FFIType.i32], returns: FFIType.i64_fast },
  ftruncate64: { args: [FFIType.i32, FFIType.i64], returns: FFIType.i32 },
  fsync: { args: [FFIType.i32], returns: FFIType.i32 },
  fdatasync: { args: [FFIType.i32], returns: FFIType.i32 },
  fstat: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  fstatat: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  fstatfs: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  mkdirat: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  mknodat: { args: [FFIType.i32, FFIType.ptr, FFIType.u32, FFIType.u64], returns: FFIType.i32 },
  unlinkat: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  renameat2: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  symlinkat: { args: [FFIType.ptr, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  readlinkat: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
  linkat: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  fchmodat: { args: [FFIType.i32, FFIType.ptr, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
  fchownat: { args: [FFIType.i32, FFIType.ptr, FFIType.u32, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
  utimensat: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  faccessat: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  getdents64: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64_fast },
});

/**
 * The *at family and fd calls of libc (glibc ≥ 2.33 names), bound once. Each returns -1 (or a negative
 * i64) with errno set on failure: read it with {@link errno} before anything else runs. Paths are NUL-terminated
 * Buffers, data arguments any TypedArray (an empty one is passed as NULL); 64-bit offsets take numbers.
 */
export const fileCalls = fileLib.symbols;

const socketLib = dlopen("libc.so.6", {
  socketpair: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
});

/** Socket constants (Linux x86-64). */
export const SOCKET = { AF_UNIX: 1, SOCK_STREAM: 1, SOCK_CLOEXEC: 0o2000000, SOL_SOCKET: 1, SO_RCVTIMEO: 20 } as const;

/** A connected pair of close-on-exec Unix stream sockets, or null (read {@link errno}) when the call failed. */
export function unixStreamPair(): [number, number] | null {
  const pair = new Int32Array(2);
  if (socketLib.symbols.socketpair(SOCKET.AF_UNIX, SOCKET.SOCK_STREAM | SOCKET.SOCK_CLOEXEC, 0, ptr(pair)) !== 0) return null;
  return [pair[0]!, pair[1]!];
}

/** SO_RCVTIMEO: a blocking read of socket `fd` fails with EAGAIN after `seconds`. Returns 0, or -1 (read {@link errno}). */
export function setReceiveTimeout(fd: number, seconds: number): number {
  const timeval = new BigInt64Array([BigInt(seconds), 0n]);
  return socketLib.symbols.setsockopt(fd, SOCKET.SOL_SOCKET, SOCKET.SO_RCVTIMEO, ptr(timeval), 16);
}

/** `AT_*` flags and the `AT_FDCWD` directory of the *at calls (Linux). */
export const AT = {
  FDCWD: -100,
  SYMLINK_NOFOLLOW: 0x100,
  REMOVEDIR: 0x200,
  SYMLINK_FOLLOW: 0x400,
  EMPTY_PATH: 0x1000,
} as const;

/** `RESOLVE_*` flags of openat2(2). */
export const RESOLVE = {
  NO_XDEV: 0x01,
  NO_MAGICLINKS: 0x02,
  NO_SYMLINKS: 0x04,
  BENEATH: 0x08,
  IN_ROOT: 0x10,
  CACHED: 0x20,
} as const;

const SYS_OPENAT2 = 437;
const SYS_FCHMODAT2 = 452;
/** `struct open_how { u64 flags; u64 mode; u64 resolve; }`, reused: calls on one thread never overlap. */
const openHow = new BigUint64Array(3);

/**
 * openat2(2): open `path` (a NUL-terminated Buffer) relative to `dirfd` with `flags`, `mode` (must be 0 unless
 * O_CREAT/O_TMPFILE) and `resolve` (RESOLVE_*). Returns the fd, or -1 with errno set (EAGAIN: a concurrent
 * rename raced a scoped lookup — retry; E2BIG/EINVAL: flags the kernel does not know; ENOSYS before Linux 5.6).
 */
export function openat2(dirfd: number, path: Uint8Array, flags: number, mode: number, resolve: number): number {
  openHow[0] = BigInt(flags >>> 0);
  openHow[1] = BigInt(mode >>> 0);
  openHow[2] = BigInt(resolve >>> 0);
  return syscall(SYS_OPENAT2, dirfd, ptr(path), ptr(openHow), openHow.byteLength);
}

/**
 * fchmodat2(2) (Linux 6.6): like fchmodat but honouring `flags` (AT_EMPTY_PATH changes the file an O_PATH `dirfd`
 * refers to; AT_SYMLINK_NOFOLLOW). Returns 0, or -1 with errno set (ENOSYS on older kernels).
 */
export function fchmodat2(dirfd: number, path: Uint8Array, mode: number, flags: number): number {
  return syscall(SYS_FCHMODAT2, dirfd, ptr(path), mode >>> 0, flags);
}

const mountLib = dlopen("libc.so.6", {
  mount: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
  umount2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
});

/** mount(2) flags and umount2(2) flags used by danaus (Linux). */
export const MOUNT = { MS_NOSUID: 2, MS_NODEV: 4, MNT_FORCE: 1, MNT_DETACH: 2 } as const;

/**
 * mount(2): `source`, `target`, `fstype` and `data` are NUL-terminated Buffers (`data` may be null). Returns 0, or -1
 * with errno set (EPERM without CAP_SYS_ADMIN, ENOENT, ENODEV for an unknown type, EINVAL for bad data).
 */
export function mount(source: Uint8Array, target: Uint8Array, fstype: Uint8Array, flags: number, data: Uint8Array | null): number {
  return mountLib.symbols.mount(ptr(source), ptr(target), ptr(fstype), flags, data === null ? null : ptr(data));
}

/** umount2(2) of `target` (a NUL-terminated Buffer) with MNT_* flags. Returns 0, or -1 with errno set (EBUSY, EINVAL). */
export function umount2(target: Uint8Array, flags: number): number {
  return mountLib.symbols.umount2(ptr(target), flags);
}
