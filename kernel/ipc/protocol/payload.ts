/** @module payload — path payloads in a request window: NUL-terminated strings, encoded and validated. */
import { ERRNO } from "./errno.ts";
import { bytesToName, isByteString } from "./names.ts";

/**
 * Longest path including its NUL in one syscall argument, as Linux PATH_MAX: what a program may hand the TS client (or
 * the kernel) at once. The client answers ENAMETOOLONG for a longer argument, as the kernel does; a symlink target is
 * bounded by it too.
 */
export const PATH_MAX = 4096;

/**
 * Longest path including its NUL that a request carries and the FileSystem contract serves (16 × PATH_MAX). A path
 * inside danaus can be longer than one syscall argument: fuse-legacy rebuilds it from the names the kernel sends one
 * level at a time, and the TS client joins a relative argument to its cwd. A kernel filesystem has no bound on a
 * path's total length (only on each name, NAME_MAX = 255 bytes); danaus has this one, so a tree deeper than
 * DANAUS_PATH_MAX − 1 bytes answers ENAMETOOLONG. Two such paths (rename, link) fit any request window of the default
 * 1 MiB request buffer; a smaller window answers ENAMETOOLONG for what does not fit.
 */
export const DANAUS_PATH_MAX = 16 * PATH_MAX;

/**
 * Write `paths` (byte strings, see names.ts) as NUL-terminated byte strings into `bytes[offset, offset + capacity)`.
 * Returns the bytes written, or a negative errno: -ENAMETOOLONG when a path is longer than DANAUS_PATH_MAX or the window is
 * too small, -EINVAL when a path is empty, contains a NUL or is not a byte string.
 */
export function encodePaths(bytes: Uint8Array, offset: number, capacity: number, paths: readonly string[]): number {
  let at = offset;
  const end = Math.min(offset + capacity, bytes.length);
  for (const path of paths) {
    if (path.length === 0 || path.includes("\0") || !isByteString(path)) return -ERRNO.EINVAL;
    if (path.length + 1 > DANAUS_PATH_MAX || at + path.length + 1 > end) return -ERRNO.ENAMETOOLONG;
    for (let i = 0; i < path.length; i++) bytes[at + i] = path.charCodeAt(i);
    bytes[at + path.length] = 0;
    at += path.length + 1;
  }
  return at - offset;
}

/**
 * Read exactly `count` NUL-terminated strings from `bytes[offset, offset + length)`.
 * Returns them, or EINVAL when the window is out of `bytes`, a string is empty or lacks its NUL,
 * ENAMETOOLONG when one is longer than DANAUS_PATH_MAX. Bytes after the last NUL are ignored.
 */
export function decodePaths(bytes: Uint8Array, offset: number, length: number, count: number): string[] | number {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > bytes.length) {
    return ERRNO.EINVAL;
  }
  const window = bytes.subarray(offset, offset + length);
  const out: string[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const nul = window.indexOf(0, at);
    if (nul < 0) return window.length - at >= DANAUS_PATH_MAX ? ERRNO.ENAMETOOLONG : ERRNO.EINVAL;
    if (nul === at) return ERRNO.EINVAL;
    if (nul - at + 1 > DANAUS_PATH_MAX) return ERRNO.ENAMETOOLONG;
    out.push(bytesToName(window, at, nul));
    at = nul + 1;
  }
  return out;
}
