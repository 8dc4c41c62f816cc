/**
 * @module handle — how a union handle names a branch handle or a shared directory slot, as one int32 ≥ 0.
 *
 * Encoding (bit 31 is always 0):
 * - bit 30 clear — a file handle: `branchHandle * 16 + branchIndex`. The branch handle is the branch's own
 *   (process-wide) handle, below 2^26; the branch index is 0 for the upper, 1.. for the lowers (at most 16 branches).
 * - bit 30 set — a directory handle: `2^30 | generation << 16 | slot`, naming a slot of the {@link UnionShared}
 *   directory table (generation 1..16383 bumps on every reuse of the slot, so a closed handle answers EBADF).
 */

/** Most branches a union can stack (the branch index takes 4 bits of a file handle). */
export const MAX_BRANCHES = 16;
/** Branch handles must stay below this to fit a file handle. */
export const MAX_BRANCH_HANDLE = 1 << 26;
const DIR_FLAG = 1 << 30;
const SLOT_BITS = 16;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
/** Directory-slot generations wrap inside this mask (0 is never used). */
export const GENERATION_MASK = 0x3fff;

/** A decoded union handle. */
export type DecodedHandle =
  | { readonly kind: "file"; readonly branch: number; readonly handle: number }
  | { readonly kind: "dir"; readonly slot: number; readonly generation: number };

/** The union handle of branch `branch`'s handle `handle`; -1 when it does not fit (the caller answers EMFILE). */
export function encodeFileHandle(branch: number, handle: number): number {
  if (handle < 0 || handle >= MAX_BRANCH_HANDLE || branch < 0 || branch >= MAX_BRANCHES) return -1;
  return handle * MAX_BRANCHES + branch;
}

/** The union handle of directory slot `slot` at `generation`. */
export function encodeDirHandle(slot: number, generation: number): number {
  return DIR_FLAG | ((generation & GENERATION_MASK) << SLOT_BITS) | (slot & SLOT_MASK);
}

/** Decodes a union handle; null when `fd` cannot be one (not an int32 ≥ 0). */
export function decodeHandle(fd: number): DecodedHandle | null {
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) return null;
  if (fd & DIR_FLAG) return { kind: "dir", slot: fd & SLOT_MASK, generation: (fd >>> SLOT_BITS) & GENERATION_MASK };
  return { kind: "file", branch: fd % MAX_BRANCHES, handle: Math.floor(fd / MAX_BRANCHES) };
}
