/**
 * @module transfer — reads and writes larger than one libcephfs call may move, split into pieces. ceph_ll_read and
 * ceph_ll_write return an int and clamp a call to INT_MAX bytes, so a transfer of more than 2 GiB must be split.
 */
import { FsError } from "../../../../kernel/ipc/protocol/index.ts";

/** The most bytes the backend moves in one ceph_ll_read / ceph_ll_write call (1 GiB). */
export const MAX_IO_BYTES = 1 << 30;

/**
 * Moves `length` bytes as pieces of at most `limit` bytes: `piece(done, size)` moves `size` bytes starting `done`
 * bytes into the transfer and returns how many it moved, or a negative errno. Stops after a short piece (end of
 * file). Returns the total moved. A failing first piece throws FsError(errno, syscall); a later failure ends the
 * transfer with the count so far, as read(2) and write(2) report a partial transfer.
 */
export function transferInPieces(length: number, limit: number, syscall: string, piece: (done: number, size: number) => number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`transfer piece limit ${limit} must be a positive integer`);
  let done = 0;
  while (done < length) {
    const size = Math.min(length - done, limit);
    const moved = piece(done, size);
    if (moved < 0) {
      if (done > 0) return done;
      throw new FsError(-moved, syscall);
    }
    done += moved;
    if (moved < size) break;
  }
  return done;
}
