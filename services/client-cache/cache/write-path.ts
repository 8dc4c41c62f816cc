/**
 * @module write-path — pwrite in "async" mode: into the shared blocks, marked dirty, written back later.
 *
 * Each step takes up to `stepBlocks` blocks under the mutex: it first makes sure the dirty limit holds (writing back
 * the oldest dirty blocks itself when this write would pass `maxDirtyBytes`: back-pressure, never failure), pins the
 * cached blocks, inserts the missing ones (FILLING, so readers wait), marks all of them dirty and counts the write as
 * active (stat shows the cached size meanwhile). Outside the mutex it reads the backend's bytes into a new block
 * only when the write covers it partly and the backend holds the rest, zeroes the rest otherwise, and copies the
 * data. Back under the mutex it marks the blocks dirty again (a write-back may have taken them meanwhile: then they
 * are written once more, so nothing is lost — background write-back leaves blocks with a writer in alone, so only
 * an fsync, close or truncate racing the write can do this, and only then can dirty bytes pass the limit, by at
 * most the blocks of the racing steps) and grows the cached size. A block dropped meanwhile by a truncate
 * makes the step start over, so the write lands after the truncate. When the write cannot be cached (no block to
 * evict, no room under the dirty limit that this thread can make, or a partial block to fill through a write-only
 * handle) the step is written through instead.
 *
 * Concurrent writes to the same bytes from two threads are not atomic with respect to each other (their copies may
 * interleave), unlike Linux's per-inode write lock; writes to different bytes never interfere.
 */
import type { FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import {
  allocateBlock, dropBlock, fillDone, findBlock, insertBlock, isDirty, isOrphan, markDirty, pinHit, returnBlock, unpin,
} from "./blocks.ts";
import { B, BlockState, F, FF, HandleFlag, HDR, NIL, STAT } from "./layout.ts";
import { needsFill, type OpenFile } from "./open-file.ts";
import { fillMissing } from "./read-path.ts";
import type { SharedCache } from "./shared-cache.ts";
import { writeBackOldest } from "./write-back.ts";
import { writeThrough } from "./write-through.ts";

type Step = "cached" | "wait" | "room" | "evict" | "through";

/** Writes `data` at `offset` of `file` (a writable handle without O_APPEND) into the cache; returns the bytes written. */
export function writeCached(cache: SharedCache, inner: FileSystem, file: OpenFile, data: Uint8Array, offset: number): number {
  const m = cache.memory;
  const w = m.i32;
  const blockSize = m.blockSize;
  const f = m.f(file.file);
  const ff = m.ff(file.file);
  const readable = (file.flags & HandleFlag.READ) !== 0;
  const maxBlocks = Math.min(cache.stepBlocks, cache.maxDirtyBlocks);
  const slots: number[] = [];
  const fresh: boolean[] = [];
  const fill: boolean[] = [];
  let done = 0;
  let tries = 0;
  while (done < data.length) {
    const pos = offset + done;
    if (maxBlocks < 1) return done + writeThrough(cache, inner, file, data.subarray(done), pos).written;
    const first = Math.floor(pos / blockSize);
    const last = Math.min(Math.floor((offset + data.length - 1) / blockSize), first + maxBlocks - 1);
    const end = Math.min(offset + data.length, (last + 1) * blockSize);
    slots.length = 0;
    fresh.length = 0;
    fill.length = 0;
    let step: Step = "cached";
    let waitFrom = 0;
    let newlyDirty = 0;
    let size = 0;
    m.lock();
    try {
      size = m.f64[ff + FF.SIZE]!;
      const backendSize = m.f64[ff + FF.BACKEND_SIZE]!;
      for (let index = first; index <= last; index++) {
        const slot = findBlock(m, file.file, index);
        if (slot !== NIL && w[m.b(slot) + B.STATE] !== BlockState.VALID) {
          step = "wait";
          waitFrom = m.fillSequence();
          break;
        }
        if (slot === NIL || !isDirty(m, slot)) newlyDirty++;
        const partial = slot === NIL && needsFill(index, blockSize, pos, end, backendSize);
        if (partial && !readable) step = "through";
        slots.push(slot);
        fresh.push(slot === NIL);
        fill.push(partial);
      }
      if (step === "cached" && w[HDR.DIRTY_BLOCKS]! + newlyDirty > cache.maxDirtyBlocks) step = "room";
      if (step === "cached") step = takeBlocks(cache, file.file, first, slots, fresh);
      if (step === "cached") {
        const now = cache.now();
        for (let i = 0; i < slots.length; i++) {
          const slot = slots[i]!;
          const start = (first + i) * blockSize;
          w[m.b(slot) + B.WRITERS]!++;
          markDirty(m, slot, Math.max(pos, start) - start, Math.min(end, start + blockSize) - start, now);
          if (fill[i]) m.f64[STAT.MISSES]!++;
          else if (!fresh[i]) m.f64[STAT.HITS]!++;
        }
        w[f + F.ACTIVE]!++;
        m.f64[ff + FF.WRITE_TIME] = now;
      }
    } finally {
      m.unlock();
    }
    if (step === "wait") {
      m.waitForFill(waitFrom);
      continue;
    }
    if (step === "room" || step === "evict") {
      // Make room by writing back the oldest dirty blocks down to the background threshold (half the limit, so the
      // backend gets large coalesced writes), then look again; if that frees nothing, write through.
      const batch = Math.max(newlyDirty, cache.dirtyBlocks() + newlyDirty - Math.floor(cache.maxDirtyBlocks / 2));
      if (tries++ < 2 && writeBackOldest(cache, { blocks: batch }) > 0) continue;
      step = "through";
    }
    if (step === "through") {
      done += writeThrough(cache, inner, file, data.subarray(done, end - offset), pos).written;
      tries = 0;
      continue;
    }
    let filled = 0;
    let failure: unknown;
    try {
      filled = fillMissing(cache, inner, file.handle, first, slots, fill, size);
      for (let i = 0; i < slots.length; i++) {
        const start = (first + i) * blockSize;
        const lo = Math.max(pos, start) - start;
        const hi = Math.min(end, start + blockSize) - start;
        const block = m.blockBytes(slots[i]!);
        if (fresh[i] && !fill[i]) {
          block.fill(0, 0, lo);
          block.fill(0, hi);
        }
        block.set(data.subarray(start + lo - offset, start + hi - offset), lo);
      }
    } catch (error) {
      failure = error;
    }
    let retry = false;
    m.lock();
    try {
      const now = cache.now();
      m.f64[STAT.FILL_BYTES]! += filled;
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i]!;
        const start = (first + i) * blockSize;
        w[m.b(slot) + B.WRITERS]!--;
        if (failure !== undefined) {
          if (fresh[i]) dropBlock(m, slot);
        } else if (isOrphan(m, slot)) {
          retry = true;
        } else {
          markDirty(m, slot, Math.max(pos, start) - start, Math.min(end, start + blockSize) - start, now);
        }
        if (fresh[i]) fillDone(m, slot);
        else unpin(m, slot);
      }
      if (failure === undefined && !retry && end > m.f64[ff + FF.SIZE]!) m.f64[ff + FF.SIZE] = end;
      w[f + F.ACTIVE]!--;
    } finally {
      m.unlock();
    }
    if (fresh.includes(true)) m.fillEnded();
    if (failure !== undefined) {
      if (done > 0) return done;
      throw failure;
    }
    if (!retry) {
      done = end - offset;
      tries = 0;
    }
  }
  return done;
}

/**
 * Pins the cached blocks of the step and allocates and inserts the missing ones (under the mutex). Cached ones are
 * pinned first, so that this step's own evictions cannot take them. Answers "evict" (with nothing held) when a
 * block cannot be had.
 */
function takeBlocks(cache: SharedCache, file: number, first: number, slots: number[], fresh: readonly boolean[]): Step {
  const m = cache.memory;
  for (let i = 0; i < slots.length; i++) if (!fresh[i]) pinHit(m, slots[i]!);
  const taken: number[] = [];
  for (let i = 0; i < slots.length; i++) {
    if (!fresh[i]) continue;
    const slot = allocateBlock(m);
    if (slot === NIL) {
      for (const allocated of taken) returnBlock(m, allocated);
      for (let k = 0; k < slots.length; k++) if (!fresh[k]) unpin(m, slots[k]!);
      return "evict";
    }
    taken.push(slot);
  }
  let next = 0;
  for (let i = 0; i < slots.length; i++) {
    if (!fresh[i]) continue;
    const slot = taken[next++]!;
    insertBlock(m, slot, file, first + i);
    slots[i] = slot;
  }
  return "cached";
}
