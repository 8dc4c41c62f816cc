/**
 * @module umask — the calling program's umask, which the client applies to the modes it sends, as the kernel does
 * before a filesystem sees a create: the tenant service applies none (its process runs with umask 0).
 */
import { openSync, readSync } from "node:fs";
import { O } from "../../kernel/ipc/protocol/linux.ts";

const STATUS = "/proc/self/status";
const KEY = Buffer.from("Umask:");
const buffer = Buffer.alloc(4096);
/** This thread's descriptor of /proc/self/status, kept open: reading it again costs a few µs, opening it more. */
let status = -1;

/** The `Umask:` field of /proc/self/status read through `status`, or -1 when it cannot be read there. */
function readStatus(): number {
  if (status < 0) status = openSync(STATUS, O.RDONLY | O.CLOEXEC);
  const length = readSync(status, buffer, 0, buffer.length, 0);
  let at = buffer.subarray(0, length).indexOf(KEY);
  if (at < 0) return -1;
  at += KEY.length;
  while (buffer[at] === 0x09 || buffer[at] === 0x20) at++;
  let mask = 0;
  for (; at < length && buffer[at]! >= 0x30 && buffer[at]! <= 0x37; at++) mask = mask * 8 + buffer[at]! - 0x30;
  return mask;
}

/**
 * The process's file mode creation mask, read from `/proc/self/status` (Linux 4.7+): never changed on the way, so
 * no thread of the program ever creates a file under a wrong mask (`process.umask()` without an argument sets it to
 * 0 and back, which is the fallback when /proc cannot tell).
 */
export function currentUmask(): number {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const mask = readStatus();
      if (mask >= 0) return mask;
    } catch {
      // Nothing to do but open it again.
    }
    // The program closed the descriptor behind our back (closing every fd, say), and its number may now be another
    // file of the program's: forget it, never close it, and open /proc/self/status again.
    status = -1;
  }
  return process.umask();
}

/** `mode` as a create of the calling program gives it to a filesystem: its type, and its 07777 bits less the umask. */
export function maskedMode(mode: number): number {
  return mode & ~(currentUmask() & 0o777);
}
