/** @module open-file — what the read and write paths need to know about one cached handle. */

/** A cached handle, as the read and write paths see it. */
export interface OpenFile {
  /** The backend handle. */
  readonly handle: number;
  /** Its slot in the shared handle table. */
  readonly slot: number;
  /** Its file's slot in the shared file table. */
  readonly file: number;
  /** Its HandleFlag bits. */
  readonly flags: number;
}

/**
 * True when block `index` (of `blockSize` bytes) written only over [from, to) holds other bytes the backend has
 * (below `backendSize`), which must then be read before the block can be cached; bytes past the backend's end are
 * zeros (a hole or beyond the end of file).
 */
export function needsFill(index: number, blockSize: number, from: number, to: number, backendSize: number): boolean {
  const start = index * blockSize;
  const lo = Math.max(from, start);
  const hi = Math.min(to, start + blockSize);
  return (lo > start && start < backendSize) || (hi < start + blockSize && hi < backendSize);
}
