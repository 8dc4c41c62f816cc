/**
 * @module read-path — pread served from the shared blocks. Each step pins up to `stepBlocks` consecutive blocks
 * under the mutex (hits get their reference bit; misses are inserted FILLING, so a second reader of the same block
 * waits instead of reading it too), then copies outside the mutex; each run of missing blocks is read from the
 * backend with one pread. Nothing is read past the file's cached size, which may be larger than the backend's
 * while dirty data is not written back: the bytes between are zeros the backend does not hold yet.
 */
import type { FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import { readFully } from "./backend-io.ts";
import { allocateBlock, dropBlock, fillDone, findBlock, insertBlock, pinHit, unpin } from "./blocks.ts";
import { B, BlockState, FF, NIL, STAT } from "./layout.ts";
import type { OpenFile } from "./open-file.ts";
import type { SharedCache } from "./shared-cache.ts";

/**
 * Reads into `into` at `offset` of `file` through the cache; returns the bytes read (0 at or past the end). When the
 * step's first block is missing, up to `ahead` more bytes past the request are filled in the same backend read.
 */
export function readCached(cache: SharedCache, inner: FileSystem, file: OpenFile, into: Uint8Array, offset: number, ahead = 0): number {
  const m = cache.memory;
  const w = m.i32;
  const blockSize = m.blockSize;
  const ff = m.ff(file.file);
  const slots: number[] = [];
  const filling: boolean[] = [];
  let done = 0;
  while (done < into.length) {
    const pos = offset + done;
    const first = Math.floor(pos / blockSize);
    slots.length = 0;
    filling.length = 0;
    let waitFrom: number | undefined;
    let size: number;
    let end: number;
    m.lock();
    try {
      size = m.f64[ff + FF.SIZE]!;
      end = Math.min(offset + into.length, size);
      if (pos >= end) break;
      const missing = ahead > 0 && findBlock(m, file.file, first) === NIL;
      const last = Math.floor((Math.min(size, missing ? end + ahead : end) - 1) / blockSize);
      const wanted = Math.floor((end - 1) / blockSize);
      for (let index = first; index <= last && slots.length < cache.stepBlocks; index++) {
        let slot = findBlock(m, file.file, index);
        // Read-ahead past the request stops at the first block already there, and counts neither hits nor misses.
        if (index > wanted && slot !== NIL) break;
        if (slot !== NIL) {
          if (w[m.b(slot) + B.STATE] !== BlockState.VALID) {
            // Someone else is filling it: wait for them rather than read it twice.
            if (slots.length === 0) waitFrom = m.fillSequence();
            break;
          }
          pinHit(m, slot);
          m.f64[STAT.HITS]!++;
          filling.push(false);
        } else {
          slot = allocateBlock(m);
          if (slot === NIL) break;
          insertBlock(m, slot, file.file, index);
          if (index <= wanted) m.f64[STAT.MISSES]!++;
          filling.push(true);
        }
        slots.push(slot);
      }
    } finally {
      m.unlock();
    }
    if (waitFrom !== undefined) {
      m.waitForFill(waitFrom);
      continue;
    }
    if (slots.length === 0) {
      // Every block is pinned, dirty or being filled: read this one block's part straight from the backend.
      const stop = Math.min(end, (first + 1) * blockSize);
      const target = into.subarray(done, stop - offset);
      target.fill(0, readFully(inner, file.handle, target, pos));
      done = stop - offset;
      continue;
    }
    let filled = 0;
    let failure: unknown;
    try {
      filled = fillMissing(cache, inner, file.handle, first, slots, filling, size);
      for (let i = 0; i < slots.length; i++) {
        const start = (first + i) * blockSize;
        const from = Math.max(pos, start);
        const to = Math.min(end, start + blockSize);
        if (from >= to) break;
        into.set(m.blockBytes(slots[i]!, from - start, to - start), from - offset);
      }
    } catch (error) {
      failure = error;
    }
    m.lock();
    try {
      m.f64[STAT.FILL_BYTES]! += filled;
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i]!;
        if (!filling[i]) {
          unpin(m, slot);
          continue;
        }
        // A failed fill leaves garbage: drop the block (it becomes an orphan, freed by the unpin in fillDone).
        if (failure !== undefined) dropBlock(m, slot);
        fillDone(m, slot);
      }
    } finally {
      m.unlock();
    }
    if (filling.includes(true)) m.fillEnded();
    if (failure !== undefined) throw failure;
    done = Math.min(end, (first + slots.length) * blockSize) - offset;
  }
  return done;
}

/**
 * Fills the blocks marked in `filling` (slots[i] caches block first+i) from the backend, one pread per run of
 * consecutive missing blocks; bytes past the backend's data or past `size` are zeroed. Returns the bytes read.
 */
export function fillMissing(
  cache: SharedCache,
  inner: FileSystem,
  handle: number,
  first: number,
  slots: readonly number[],
  filling: readonly boolean[],
  size: number,
): number {
  const m = cache.memory;
  const blockSize = m.blockSize;
  const maxRun = Math.max(1, Math.floor(cache.runBytes / blockSize));
  let total = 0;
  for (let i = 0; i < slots.length; ) {
    if (!filling[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < slots.length && filling[j + 1] && j + 1 - i < maxRun) j++;
    const start = (first + i) * blockSize;
    const blocks = j - i + 1;
    const single = blocks === 1;
    const target = single ? m.blockBytes(slots[i]!) : cache.scratch(blocks * blockSize);
    // Bytes past the cached size are zeros whatever the backend holds: no need to ask for them.
    const read = readFully(inner, handle, target, start, Math.max(0, Math.min(target.length, size - start)));
    total += read;
    const valid = Math.max(0, Math.min(read, size - start));
    for (let k = 0; k < blocks; k++) {
      const block = m.blockBytes(slots[i + k]!);
      const from = Math.min(blockSize, Math.max(0, valid - k * blockSize));
      if (!single && from > 0) block.set(target.subarray(k * blockSize, k * blockSize + from));
      block.fill(0, from);
    }
    i = j + 1;
  }
  return total;
}
