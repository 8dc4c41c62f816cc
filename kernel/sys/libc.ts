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

/** Raw syscall(2); returns the kernel's result (negative values are -1 with errno set). */
export function syscall(nr: number, a = 0, b = 0, c = 0, d = 0, e = 0, f = 0): number {
  return lib.symbols.syscall(nr, a, b, c, d, e, f) as number;
}

const memoryLib = dlopen("libc.so.6", {
  mmap: {
    args: [FFIType.u64, FFIType.u64, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i64],
    returns: FFIType.i64_fast,
  },
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
