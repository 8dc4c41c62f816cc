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
 * Longest path including its NUL that a request window carries (16 × PATH_MAX). A path inside danaus can be longer
 * than one syscall argument: fuse-legacy rebuilds it from the names the kernel sends one level at a time, and the TS
 * client joins a relative argument to its cwd. A kernel filesystem has no bound on a path's total length (only on each
 * name, NAME_MAX = 255 bytes), and neither has the FileSystem contract: paths a window cannot carry (longer than this,
 * or two that do not fit together) are sent ahead with `stage_paths` (kernel/ipc/server/path-stage.ts), which the TS
 * client does by itself. The preload library keeps to one window (its own DANAUS_ARG_PATH_MAX).
 */
export const DANAUS_PATH_MAX = 16 * PATH_MAX;

/**
 * Write `paths` (byte strings, see names.ts) as NUL-terminated byte strings into `bytes[offset, offset + capacity)`.
 * Returns the bytes written, or a negative errno: -ENAMETOOLONG when a path with its NUL is longer than `bound`
 * (DANAUS_PATH_MAX: a window's) or the window is too small, -EINVAL when a path is empty, contains a NUL or is not a
 * byte string.
 */
export function encodePaths(bytes: Uint8Array, offset: number, capacity: number, paths: readonly string[], bound = DANAUS_PATH_MAX): number {
  let at = offset;
  const end = Math.min(offset + capacity, bytes.length);
  for (const path of paths) {
    if (path.length === 0 || path.includes("\0") || !isByteString(path)) return -ERRNO.EINVAL;
    if (path.length + 1 > bound || at + path.length + 1 > end) return -ERRNO.ENAMETOOLONG;
    for (let i = 0; i < path.length; i++) bytes[at + i] = path.charCodeAt(i);
    bytes[at + path.length] = 0;
    at += path.length + 1;
  }
  return at - offset;
}

/**
 * Read exactly `count` NUL-terminated strings from `bytes[offset, offset + length)`.
 * Returns them, or EINVAL when the window is out of `bytes`, a string is empty or lacks its NUL,
 * ENAMETOOLONG when one with its NUL is longer than `bound` (a window's DANAUS_PATH_MAX; staged paths have none).
 * Bytes after the last NUL are ignored.
 */
export function decodePaths(bytes: Uint8Array, offset: number, length: number, count: number, bound = DANAUS_PATH_MAX): string[] | number {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > bytes.length) {
    return ERRNO.EINVAL;
  }
  const window = bytes.subarray(offset, offset + length);
  const out: string[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const nul = window.indexOf(0, at);
    if (nul < 0) return window.length - at >= bound ? ERRNO.ENAMETOOLONG : ERRNO.EINVAL;
    if (nul === at) return ERRNO.EINVAL;
    if (nul - at + 1 > bound) return ERRNO.ENAMETOOLONG;
    out.push(bytesToName(window, at, nul));
    at = nul + 1;
  }
  return out;
}
