/** @module backend-io — whole reads and writes against the backend FileSystem (it may return short counts). */
import { ERRNO, FsError, type FileSystem } from "../../../kernel/ipc/protocol/index.ts";

/**
 * Reads into `into` from `offset` until `wanted` bytes (default: all of `into`) are in or the backend's end of
 * file; returns the bytes read (possibly more than `wanted`, never more than `into` holds).
 */
export function readFully(fs: FileSystem, handle: number, into: Uint8Array, offset: number, wanted = into.length): number {
  let done = 0;
  while (done < wanted) {
    const count = fs.pread(handle, done === 0 ? into : into.subarray(done), offset + done);
    if (count <= 0) break;
    done += count;
  }
  return done;
}

/** Writes all of `data` at `offset`; EIO when the backend stops accepting bytes without an error of its own. */
export function writeFully(fs: FileSystem, handle: number, data: Uint8Array, offset: number): void {
  let done = 0;
  while (done < data.length) {
    const count = fs.pwrite(handle, done === 0 ? data : data.subarray(done), offset + done);
    if (count <= 0) throw new FsError(ERRNO.EIO, "pwrite");
    done += count;
  }
}
