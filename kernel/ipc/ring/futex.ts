/** @module futex — the futex(2) calls the ring needs, non-private so they reach across processes. */
import { ptr } from "bun:ffi";
import { errno, syscall } from "../../sys/libc.ts";
import { ERRNO } from "../protocol/errno.ts";
import { SystemCallError } from "./errors.ts";

const SYS_FUTEX = 202;
/** FUTEX_WAIT and FUTEX_WAKE without FUTEX_PRIVATE_FLAG (128): a private futex never wakes another process. */
export const FUTEX_OP = { WAIT: 0, WAKE: 1 } as const;

/** Largest wake count: wake every waiter. */
export const WAKE_ALL = 0x7fffffff;

/** Why {@link futexWait} returned. */
export type FutexWaitOutcome = "woken" | "changed" | "timeout" | "interrupted";

const timespec = new BigInt64Array(2);

/**
 * Sleep while the 32-bit word at `address` equals `expected`, at most `timeoutMs` (undefined: no limit).
 * Returns "changed" at once if the word already differs; "woken" may be spurious, so re-check the word.
 * Blocks the calling thread's event loop: call it from a thread that has nothing else to do.
 * Throws {@link SystemCallError} for EFAULT/EINVAL (an address outside any mapping).
 */
export function futexWait(address: number, expected: number, timeoutMs?: number): FutexWaitOutcome {
  let timeout = 0;
  if (timeoutMs !== undefined) {
    const ns = Math.max(0, Math.round(timeoutMs * 1e6));
    timespec[0] = BigInt(Math.floor(ns / 1e9));
    timespec[1] = BigInt(ns % 1e9);
    timeout = ptr(timespec);
  }
  if (syscall(SYS_FUTEX, address, FUTEX_OP.WAIT, expected | 0, timeout, 0, 0) === 0) return "woken";
  const code = errno();
  if (code === ERRNO.EAGAIN) return "changed";
  if (code === ERRNO.ETIMEDOUT) return "timeout";
  if (code === ERRNO.EINTR) return "interrupted";
  throw new SystemCallError(`futex wait at 0x${address.toString(16)}`, code);
}

/** Wake up to `count` threads (any process) sleeping on the word at `address`; returns how many woke. */
export function futexWake(address: number, count: number): number {
  const woken = syscall(SYS_FUTEX, address, FUTEX_OP.WAKE, count, 0, 0, 0);
  return woken < 0 ? 0 : woken;
}
