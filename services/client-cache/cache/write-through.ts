/**
 * @module write-through — writes that go to the backend first and then into the cached blocks: every write in
 * "sync" mode, O_APPEND, O_SYNC/O_DSYNC and O_DIRECT handles, and the async path's fallbacks. The file's I/O lock is
 * held across the backend write and the cache update, so write-throughs and write-backs of one file never
 * interleave (the last backend write and the cache always agree). Blocks the write covers are updated in place;
 * blocks it fills completely (or whose other bytes are past the backend's end) are inserted; a block someone is
 * filling meanwhile is dropped (its filler re-reads or retries), so no stale copy survives.
 */
import { ERRNO, FsError, type FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import { allocateBlock, dropBlock, fillDone, findBlock, insertBlock, pinHit, unpin } from "./blocks.ts";
import { B, BlockState, FF, NIL, STAT } from "./layout.ts";
import { needsFill, type OpenFile } from "./open-file.ts";
import type { SharedCache } from "./shared-cache.ts";
import { writeBackFile } from "./write-back.ts";

const MAX_BLOCKS = 2 ** 32;

/**
 * Writes `data` through `file`'s handle at `offset` (for an O_APPEND handle, at the end of the file after writing
 * back the file's dirty data, so the backend's end is the cache's); returns the bytes written and where they went.
 * A backend error after some bytes were written returns the short count; with nothing written it throws FsError.
 */
export function writeThrough(
  cache: SharedCache,
  inner: FileSystem,
  file: OpenFile,
  data: Uint8Array,
  offset: number,
  append = false,
): { written: number; offset: number } {
  const m = cache.memory;
  const ff = m.ff(file.file);
  if (!cache.io.acquire(file.file, true)) throw new FsError(ERRNO.EDEADLK, "pwrite");
  try {
    if (append) writeBackFile(cache, file.file, { all: true }, true);
    m.lock();
    const backendSize = m.f64[ff + FF.BACKEND_SIZE]!;
    m.unlock();
    if (append) offset = backendSize;
    let done = 0;
    let failure: unknown;
    try {
      while (done < data.length) {
        const count = inner.pwrite(file.handle, done === 0 ? data : data.subarray(done), offset + done);
        if (count <= 0) throw new FsError(ERRNO.EIO, "pwrite");
        done += count;
      }
    } catch (error) {
      failure = error;
    }
    if (done > 0) updateBlocks(cache, file.file, data.subarray(0, done), offset, backendSize);
    m.lock();
    const end = offset + done;
    if (end > m.f64[ff + FF.SIZE]!) m.f64[ff + FF.SIZE] = end;
    if (end > m.f64[ff + FF.BACKEND_SIZE]!) m.f64[ff + FF.BACKEND_SIZE] = end;
    m.f64[STAT.WRITE_THROUGH_BYTES]! += done;
    m.unlock();
    m.bumpGeneration();
    if (failure !== undefined && (done === 0 || !(failure instanceof FsError))) throw failure;
    return { written: done, offset };
  } finally {
    cache.io.release(file.file);
  }
}

/**
 * Puts `data`, just written to the backend at `offset`, into the cached blocks of file slot `file` (the caller holds
 * its I/O lock). `backendSize` is the backend's size before the write.
 */
export function updateBlocks(cache: SharedCache, file: number, data: Uint8Array, offset: number, backendSize: number): void {
  const m = cache.memory;
  const w = m.i32;
  const blockSize = m.blockSize;
  const end = offset + data.length;
  const slots: number[] = [];
  const fresh: boolean[] = [];
  for (let index = Math.floor(offset / blockSize); index * blockSize < end && index < MAX_BLOCKS; ) {
    const first = index;
    slots.length = 0;
    fresh.length = 0;
    m.lock();
    try {
      // Block indexes are unsigned 32-bit: bytes beyond the last cacheable block are in the backend only.
      for (; index * blockSize < end && index < MAX_BLOCKS && slots.length < cache.stepBlocks; index++) {
        let slot = findBlock(m, file, index);
        if (slot !== NIL) {
          if (w[m.b(slot) + B.STATE] === BlockState.VALID) {
            pinHit(m, slot);
          } else {
            // Being filled (by a reader, or a cached write): its content would predate this write.
            dropBlock(m, slot);
            slot = NIL;
          }
        } else if (!needsFill(index, blockSize, offset, end, backendSize)) {
          slot = allocateBlock(m);
          if (slot !== NIL) insertBlock(m, slot, file, index);
        }
        slots.push(slot);
        fresh.push(slot !== NIL && w[m.b(slot) + B.STATE] === BlockState.FILLING);
      }
    } finally {
      m.unlock();
    }
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (slot === NIL) continue;
      const start = (first + i) * blockSize;
      const lo = Math.max(offset, start) - start;
      const hi = Math.min(end, start + blockSize) - start;
      const block = m.blockBytes(slot);
      if (fresh[i]) {
        block.fill(0, 0, lo);
        block.fill(0, hi);
      }
      block.set(data.subarray(start + lo - offset, start + hi - offset), lo);
    }
    m.lock();
    try {
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i]!;
        if (slot === NIL) continue;
        if (fresh[i]) fillDone(m, slot);
        else unpin(m, slot);
      }
    } finally {
      m.unlock();
    }
    if (fresh.includes(true)) m.fillEnded();
  }
}
