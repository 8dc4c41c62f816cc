/**
 * @module whiteout — the OCI image-layer whiteout names: `.wh.<name>` hides `<name>` of lower branches,
 * `.wh..wh..opq` inside a directory makes it opaque, and every other `.wh..wh.` name is the union's own (temp names
 * of copy-up). No user path may hold a component starting with `.wh.` (EINVAL).
 */
import { ERRNO, FsError } from "../../kernel/ipc/protocol/index.ts";

/** The prefix of every whiteout and meta name. */
export const WHITEOUT_PREFIX = ".wh.";
/** The prefix of names the union keeps for itself (opaque marker, copy-up temp names); they whiteout nothing visible. */
export const META_PREFIX = ".wh..wh.";
/** The marker file that makes its directory opaque. */
export const OPAQUE_MARKER = ".wh..wh..opq";

/** The whiteout name that hides `name`. */
export function whiteoutName(name: string): string {
  return WHITEOUT_PREFIX + name;
}

/** Whether a directory entry name is reserved (a whiteout, the opaque marker or a temp name): never listed. */
export function isReserved(name: string): boolean {
  return name.startsWith(WHITEOUT_PREFIX);
}

/** The hidden name a whiteout entry stands for, or null for meta names and ordinary names. */
export function hiddenBy(entry: string): string | null {
  if (!entry.startsWith(WHITEOUT_PREFIX) || entry.startsWith(META_PREFIX)) return null;
  return entry.slice(WHITEOUT_PREFIX.length);
}

/** Throws EINVAL when a path component names a reserved `.wh.` entry. */
export function refuseReserved(component: string, syscall: string, path: string): void {
  if (isReserved(component)) throw new FsError(ERRNO.EINVAL, syscall, path);
}
