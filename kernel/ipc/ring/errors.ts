/** @module errors — the typed errors of the shared-memory ring: misuse by the caller and broken regions, never peer garbage. */
import { errnoName } from "../protocol/errno.ts";

/** Base class of every error the ring throws; catch this to catch them all. */
export class RingError extends Error {
  override readonly name: string = "RingError";
}

/** A system call failed (open, ftruncate, mmap, ...). `errno` is the Linux number, `code` its name. */
export class SystemCallError extends RingError {
  override readonly name = "SystemCallError";
  readonly code: string;
  constructor(readonly call: string, readonly errno: number, readonly path?: string) {
    const code = errnoName(errno) ?? `errno ${errno}`;
    super(`${call}${path === undefined ? "" : ` ${path}`} failed: ${code}`);
    this.code = code;
  }
}

/** The file or address opened is not a usable danaus region (wrong magic, version, sizes or not ready yet). */
export class RegionFormatError extends RingError {
  override readonly name = "RegionFormatError";
  constructor(readonly where: string, readonly field: string, readonly problem: string) {
    super(`${where} is not a usable danaus region: ${field} ${problem}; recreate it with the same protocol version`);
  }
}

/** The region was closed (its service stopped) while the caller used or waited on it. */
export class RegionClosedError extends RingError {
  override readonly name = "RegionClosedError";
  constructor(readonly where: string) {
    super(`${where}: the region was closed by its service; reconnect to the ipc-router`);
  }
}

/** A request descriptor that does not fit the region (buffer index, window, argument count, opcode range). */
export class RequestRangeError extends RingError {
  override readonly name = "RequestRangeError";
  constructor(readonly field: string, readonly value: number, readonly allowed: string) {
    super(`request ${field} = ${value} is outside ${allowed}; fix the descriptor before submitting`);
  }
}

/** A slot used out of turn: waiting on a slot never submitted, completing a slot never taken, a slot index out of range. */
export class SlotStateError extends RingError {
  override readonly name = "SlotStateError";
  constructor(readonly queue: number, readonly slot: number, readonly expected: string, readonly actual: string) {
    super(`queue ${queue} slot ${slot}: expected ${expected}, found ${actual}; a slot belongs to whoever submitted or took it`);
  }
}

/** A wait with a timeout ran out. */
export class WaitTimeoutError extends RingError {
  override readonly name = "WaitTimeoutError";
  constructor(readonly what: string, readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}
