/** @module dirent — READDIR reply records (`struct fuse_dirent`): fixed 24 bytes, the name without NUL, padded to 8. */
import { fuse_dirent } from "./structs.ts";

/** One entry to encode. */
export interface FuseDirentInput {
  readonly ino: number;
  /** The offset the kernel passes back to continue after this entry. */
  readonly off: number;
  /** DT_* value. */
  readonly type: number;
  /** UTF-8 bytes of the name. */
  readonly name: Uint8Array;
}

/** `FUSE_NAME_OFFSET`: where the name starts in a record. */
export const FUSE_NAME_OFFSET = fuse_dirent.size;

/** `FUSE_DIRENT_SIZE`: the padded record length for a name of `nameLength` bytes. */
export function fuseDirentSize(nameLength: number): number {
  return (FUSE_NAME_OFFSET + nameLength + 7) & ~7;
}

/**
 * Encode one record at `at` of `bytes` if it fits before `end`. Returns the record length, or 0 when it does not
 * fit (the caller stops there and the kernel asks again from the previous record's `off`).
 */
export function encodeFuseDirent(bytes: Uint8Array, view: DataView, at: number, end: number, entry: FuseDirentInput): number {
  const size = fuseDirentSize(entry.name.length);
  if (at + size > end) return 0;
  fuse_dirent.write(view, at, { ino: entry.ino, off: entry.off, namelen: entry.name.length, type: entry.type });
  bytes.set(entry.name, at + FUSE_NAME_OFFSET);
  bytes.fill(0, at + FUSE_NAME_OFFSET + entry.name.length, at + size);
  return size;
}
