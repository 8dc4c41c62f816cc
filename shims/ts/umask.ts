/**
 * @module umask — the calling program's umask, which the client applies to the modes it sends, as the kernel does
 * before a filesystem sees a create: the tenant service applies none (its process runs with umask 0).
 */
import { readFileSync } from "node:fs";

/**
 * The process's file mode creation mask, read from `/proc/self/status` (Linux 4.7+): never changed on the way, so
 * no thread of the program ever creates a file under a wrong mask (`process.umask()` without an argument sets it to
 * 0 and back). Falls back to that when /proc has no `Umask:` line.
 */
export function currentUmask(): number {
  const match = /^Umask:\s*([0-7]+)$/m.exec(readFileSync("/proc/self/status", "latin1"));
  return match === null ? process.umask() : parseInt(match[1]!, 8);
}

/** `mode` as a create of the calling program gives it to a filesystem: its type, and its 07777 bits less the umask. */
export function maskedMode(mode: number): number {
  return mode & ~(currentUmask() & 0o777);
}
