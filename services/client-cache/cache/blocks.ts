/**
 * @module blocks — the block table of the shared cache: a hash index from (file slot, block index) to block slot,
 * each file's list of blocks, the global dirty list (oldest first), pins, and eviction by CLOCK.
 *
 * Why CLOCK and not LRU: a hit only sets a reference bit (one store under the mutex) where LRU would relink a list
 * node on every hit, which is more work inside the one mutex every Worker shares. A block enters with its reference
 * bit clear and gets it on its next hit, so a file streamed through once is evicted before blocks read twice
 * (a second chance), as Linux keeps first-touch pages on its inactive list.
 *
 * Every function here expects the caller to hold the cache mutex.
 */
import { unlinkFromChain } from "./chain.ts";
import { dropReference, releaseIfUnused } from "./files.ts";
import { B, BF, BlockFlag, BlockState, F, HDR, NIL, STAT } from "./layout.ts";
import type { CacheMemory } from "./memory.ts";

function bucketOf(m: CacheMemory, file: number, index: number): number {
  let h = Math.imul(file ^ 0x27d4eb2f, 0x9e3779b1) ^ Math.imul(index | 0, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16), 0xc2b2ae35);
  return m.at.blockBuckets + ((h ^ (h >>> 13)) & (m.geometry.blockBuckets - 1));
}

/** The slot caching block `index` of file slot `file`, or NIL. */
export function findBlock(m: CacheMemory, file: number, index: number): number {
  const w = m.i32;
  const wanted = index | 0;
  for (let slot = w[bucketOf(m, file, index)]!; slot !== NIL; slot = w[m.b(slot) + B.HASH_NEXT]!) {
    const b = m.b(slot);
    if (w[b + B.FILE] === file && w[b + B.INDEX] === wanted) return slot;
  }
  return NIL;
}

/**
 * Takes a free block slot, evicting a clean unpinned block by CLOCK when none is free; NIL when every block is
 * pinned, dirty or being filled. The slot is not in any index until {@link insertBlock}.
 */
export function allocateBlock(m: CacheMemory): number {
  const w = m.i32;
  if (w[HDR.FREE_BLOCK] === NIL && !evictOne(m)) return NIL;
  const slot = w[HDR.FREE_BLOCK]!;
  w[HDR.FREE_BLOCK] = w[m.b(slot) + B.HASH_NEXT]!;
  return slot;
}

/** Returns a slot from {@link allocateBlock} that was never inserted. */
export function returnBlock(m: CacheMemory, slot: number): void {
  const b = m.b(slot);
  m.i32[b + B.STATE] = BlockState.FREE;
  m.i32[b + B.HASH_NEXT] = m.i32[HDR.FREE_BLOCK]!;
  m.i32[HDR.FREE_BLOCK] = slot;
}

/** One CLOCK step round: evicts the first clean, unpinned, valid block without its reference bit. */
function evictOne(m: CacheMemory): boolean {
  const w = m.i32;
  const blocks = m.geometry.blocks;
  for (let step = 0; step < 2 * blocks; step++) {
    const slot = w[HDR.HAND]!;
    w[HDR.HAND] = slot + 1 === blocks ? 0 : slot + 1;
    const b = m.b(slot);
    if (w[b + B.STATE] !== BlockState.VALID || w[b + B.PINS] !== 0) continue;
    const flags = w[b + B.FLAGS]!;
    if (flags & (BlockFlag.DIRTY | BlockFlag.ORPHAN)) continue;
    if (flags & BlockFlag.REF) {
      w[b + B.FLAGS] = flags & ~BlockFlag.REF;
      continue;
    }
    dropBlock(m, slot);
    m.f64[STAT.EVICTIONS]!++;
    return true;
  }
  return false;
}

/**
 * Puts allocated slot `slot` in the index as block `index` of file slot `file`, FILLING and pinned once by the
 * caller, who fills it and then calls {@link fillDone}.
 */
export function insertBlock(m: CacheMemory, slot: number, file: number, index: number): void {
  const w = m.i32;
  const b = m.b(slot);
  w[b + B.STATE] = BlockState.FILLING;
  w[b + B.FLAGS] = 0;
  w[b + B.PINS] = 1;
  w[b + B.WRITERS] = 0;
  w[b + B.FILE] = file;
  w[b + B.INDEX] = index | 0;
  w[b + B.DIRTY_LO] = 0;
  w[b + B.DIRTY_HI] = 0;
  const bucket = bucketOf(m, file, index);
  w[b + B.HASH_NEXT] = w[bucket]!;
  w[bucket] = slot;
  const f = m.f(file);
  const first = w[f + F.FIRST_BLOCK]!;
  w[b + B.FILE_PREV] = NIL;
  w[b + B.FILE_NEXT] = first;
  if (first !== NIL) w[m.b(first) + B.FILE_PREV] = slot;
  w[f + F.FIRST_BLOCK] = slot;
  w[f + F.BLOCKS]!++;
  w[HDR.USED_BLOCKS]!++;
}

/** Ends the caller's fill of `slot`: VALID unless it was dropped meanwhile; unpins it. Wake waiters after unlocking. */
export function fillDone(m: CacheMemory, slot: number): void {
  const b = m.b(slot);
  if ((m.i32[b + B.FLAGS]! & BlockFlag.ORPHAN) === 0) m.i32[b + B.STATE] = BlockState.VALID;
  unpin(m, slot);
}

/** True when block `slot` was dropped while pinned (truncated, invalidated): its content no longer counts. */
export function isOrphan(m: CacheMemory, slot: number): boolean {
  return (m.i32[m.b(slot) + B.FLAGS]! & BlockFlag.ORPHAN) !== 0;
}

/** Releases one pin; an orphan is freed at its last. */
export function unpin(m: CacheMemory, slot: number): void {
  const w = m.i32;
  const b = m.b(slot);
  if (--w[b + B.PINS]! === 0 && w[b + B.FLAGS]! & BlockFlag.ORPHAN) freeSlot(m, slot);
}

function freeSlot(m: CacheMemory, slot: number): void {
  const w = m.i32;
  const b = m.b(slot);
  w[b + B.STATE] = BlockState.FREE;
  w[b + B.FLAGS] = 0;
  w[b + B.FILE] = NIL;
  w[b + B.HASH_NEXT] = w[HDR.FREE_BLOCK]!;
  w[HDR.FREE_BLOCK] = slot;
  w[HDR.USED_BLOCKS]!--;
}

/**
 * Takes block `slot` out of the index, its file's list and the dirty list (dirty data is discarded); frees it, or
 * marks it an orphan freed at its last unpin when a thread still copies. Frees the file slot if that was its last.
 */
export function dropBlock(m: CacheMemory, slot: number): void {
  const w = m.i32;
  const b = m.b(slot);
  const file = w[b + B.FILE]!;
  if (file === NIL) return;
  markClean(m, slot);
  const bucket = bucketOf(m, file, w[b + B.INDEX]!);
  unlinkFromChain(w, bucket, slot, (s) => m.b(s) + B.HASH_NEXT);
  const f = m.f(file);
  const prev = w[b + B.FILE_PREV]!;
  const next = w[b + B.FILE_NEXT]!;
  if (prev === NIL) w[f + F.FIRST_BLOCK] = next;
  else w[m.b(prev) + B.FILE_NEXT] = next;
  if (next !== NIL) w[m.b(next) + B.FILE_PREV] = prev;
  w[f + F.BLOCKS]!--;
  w[b + B.FILE] = NIL;
  w[b + B.HASH_NEXT] = NIL;
  if (w[b + B.PINS]! > 0) w[b + B.FLAGS] = w[b + B.FLAGS]! | BlockFlag.ORPHAN;
  else freeSlot(m, slot);
  releaseIfUnused(m, file);
}

/** Drops every block of file slot `file` (see {@link dropBlock}); the file slot itself is kept if still in use. */
export function dropFileBlocks(m: CacheMemory, file: number, fromIndex = 0): void {
  const w = m.i32;
  // Hold the file slot while its last blocks go: dropBlock would otherwise free it under our feet.
  w[m.f(file) + F.REFS]!++;
  let slot = w[m.f(file) + F.FIRST_BLOCK]!;
  while (slot !== NIL) {
    const next = w[m.b(slot) + B.FILE_NEXT]!;
    if (w[m.b(slot) + B.INDEX]! >>> 0 >= fromIndex) dropBlock(m, slot);
    slot = next;
  }
  dropReference(m, file);
}

/** Marks `slot` dirty over [lo, hi) (merged with a range already dirty); a newly dirty block joins the dirty list's tail. */
export function markDirty(m: CacheMemory, slot: number, lo: number, hi: number, now: number): void {
  const w = m.i32;
  const b = m.b(slot);
  const flags = w[b + B.FLAGS]!;
  if (flags & BlockFlag.DIRTY) {
    if (lo < w[b + B.DIRTY_LO]!) w[b + B.DIRTY_LO] = lo;
    if (hi > w[b + B.DIRTY_HI]!) w[b + B.DIRTY_HI] = hi;
    return;
  }
  w[b + B.FLAGS] = flags | BlockFlag.DIRTY;
  w[b + B.DIRTY_LO] = lo;
  w[b + B.DIRTY_HI] = hi;
  m.f64[m.bf(slot) + BF.DIRTY_SINCE] = now;
  const tail = w[HDR.DIRTY_TAIL]!;
  w[b + B.DIRTY_PREV] = tail;
  w[b + B.DIRTY_NEXT] = NIL;
  if (tail === NIL) w[HDR.DIRTY_HEAD] = slot;
  else w[m.b(tail) + B.DIRTY_NEXT] = slot;
  w[HDR.DIRTY_TAIL] = slot;
  w[HDR.DIRTY_BLOCKS]!++;
  w[m.f(w[b + B.FILE]!) + F.DIRTY]!++;
}

/** Clears `slot`'s dirty state (its data is being written back, or is discarded). */
export function markClean(m: CacheMemory, slot: number): void {
  const w = m.i32;
  const b = m.b(slot);
  const flags = w[b + B.FLAGS]!;
  if ((flags & BlockFlag.DIRTY) === 0) return;
  w[b + B.FLAGS] = flags & ~BlockFlag.DIRTY;
  const prev = w[b + B.DIRTY_PREV]!;
  const next = w[b + B.DIRTY_NEXT]!;
  if (prev === NIL) w[HDR.DIRTY_HEAD] = next;
  else w[m.b(prev) + B.DIRTY_NEXT] = next;
  if (next === NIL) w[HDR.DIRTY_TAIL] = prev;
  else w[m.b(next) + B.DIRTY_PREV] = prev;
  w[b + B.DIRTY_PREV] = NIL;
  w[b + B.DIRTY_NEXT] = NIL;
  w[HDR.DIRTY_BLOCKS]!--;
  w[m.f(w[b + B.FILE]!) + F.DIRTY]!--;
}

/** True when `slot` holds dirty data. */
export function isDirty(m: CacheMemory, slot: number): boolean {
  return (m.i32[m.b(slot) + B.FLAGS]! & BlockFlag.DIRTY) !== 0;
}

/** Records a hit on `slot`: pins it and sets its reference bit. */
export function pinHit(m: CacheMemory, slot: number): void {
  const w = m.i32;
  const b = m.b(slot);
  w[b + B.PINS]!++;
  w[b + B.FLAGS] = w[b + B.FLAGS]! | BlockFlag.REF;
}

/**
 * Cuts file slot `file`'s blocks at `length` bytes (a truncate): blocks past it are dropped with their dirty data,
 * the block holding the new end keeps only its bytes below it (the rest zeroed, its dirty range clipped). A block
 * being filled or written into is dropped instead, so its filler or writer starts over after the truncate.
 */
export function trimFileBlocks(m: CacheMemory, file: number, length: number): void {
  const blockSize = m.blockSize;
  const tail = length % blockSize;
  dropFileBlocks(m, file, Math.ceil(length / blockSize));
  if (tail === 0) return;
  const slot = findBlock(m, file, Math.floor(length / blockSize));
  if (slot === NIL) return;
  const w = m.i32;
  const b = m.b(slot);
  if (w[b + B.STATE] !== BlockState.VALID || w[b + B.WRITERS] !== 0) {
    dropBlock(m, slot);
    return;
  }
  m.blockBytes(slot, tail).fill(0);
  if (isDirty(m, slot)) {
    if (w[b + B.DIRTY_LO]! >= tail) markClean(m, slot);
    else if (w[b + B.DIRTY_HI]! > tail) w[b + B.DIRTY_HI] = tail;
  }
}

/** Drops the dirty blocks of file slot `file` (their data is lost), keeping its clean ones. */
export function discardDirtyBlocks(m: CacheMemory, file: number): void {
  const w = m.i32;
  w[m.f(file) + F.REFS]!++;
  for (let slot = w[m.f(file) + F.FIRST_BLOCK]!; slot !== NIL; ) {
    const next = w[m.b(slot) + B.FILE_NEXT]!;
    if (isDirty(m, slot)) dropBlock(m, slot);
    slot = next;
  }
  dropReference(m, file);
}
