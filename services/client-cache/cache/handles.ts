/**
 * @module handles — the shared table of cached handles: backend handle (with its backend id) → file slot, access
 * flags and file position. Handles are valid in every thread of the process, so the table is shared too: a handle
 * opened by one Worker can be read, written or closed by another, and the write-back thread writes through it.
 * Every function here expects the caller to hold the cache mutex.
 */
import { unlinkFromChain } from "./chain.ts";
import { F, H, HandleFlag, HandleState, HDR, HF, NIL } from "./layout.ts";
import type { CacheMemory } from "./memory.ts";

function bucketOf(m: CacheMemory, backend: number, handle: number): number {
  const h = Math.imul(Math.imul(backend ^ 0x2545f491, 0x9e3779b1) ^ handle, 0x85ebca6b);
  return m.at.handleBuckets + ((h ^ (h >>> 15)) & (m.geometry.handleBuckets - 1));
}

/** The slot of `handle` of backend `backend` (OPEN or CLOSING), or NIL when it is not a cached handle. */
export function findHandle(m: CacheMemory, backend: number, handle: number): number {
  const w = m.i32;
  for (let slot = w[bucketOf(m, backend, handle)]!; slot !== NIL; slot = w[m.h(slot) + H.HASH_NEXT]!) {
    const h = m.h(slot);
    if (w[h + H.HANDLE] === handle && w[h + H.BACKEND] === backend) return slot;
  }
  return NIL;
}

/**
 * Records `handle` as an open handle of file slot `file` with `flags` ({@link HandleFlag}), position 0; counts it in
 * the file's opens and writers and makes it the file's write-back handle if the file has none. NIL when full.
 */
export function addHandle(m: CacheMemory, backend: number, handle: number, file: number, flags: number): number {
  const w = m.i32;
  const slot = w[HDR.FREE_HANDLE]!;
  if (slot === NIL) return NIL;
  const h = m.h(slot);
  w[HDR.FREE_HANDLE] = w[h + H.FREE_NEXT]!;
  w[h + H.STATE] = HandleState.OPEN;
  w[h + H.BACKEND] = backend;
  w[h + H.HANDLE] = handle;
  w[h + H.FILE] = file;
  w[h + H.FLAGS] = flags;
  w[h + H.USERS] = 0;
  w[h + H.FREE_NEXT] = NIL;
  m.f64[m.hf(slot) + HF.POSITION] = 0;
  const bucket = bucketOf(m, backend, handle);
  w[h + H.HASH_NEXT] = w[bucket]!;
  w[bucket] = slot;
  const f = m.f(file);
  w[h + H.FILE_NEXT] = w[f + F.FIRST_HANDLE]!;
  w[f + F.FIRST_HANDLE] = slot;
  w[f + F.OPENS]!++;
  if (flags & HandleFlag.WRITE) {
    w[f + F.WRITERS]!++;
    if (w[f + F.WB_HANDLE] === NIL && canWriteBack(flags)) w[f + F.WB_HANDLE] = slot;
  }
  w[HDR.USED_HANDLES]!++;
  return slot;
}

/** Takes handle slot `slot` out of the table and its file's list, uncounting it (the caller releases the file slot). */
export function removeHandle(m: CacheMemory, slot: number): void {
  const w = m.i32;
  const h = m.h(slot);
  const bucket = bucketOf(m, w[h + H.BACKEND]!, w[h + H.HANDLE]!);
  unlinkFromChain(w, bucket, slot, (s) => m.h(s) + H.HASH_NEXT);
  const file = w[h + H.FILE]!;
  const f = m.f(file);
  unlinkFromChain(w, f + F.FIRST_HANDLE, slot, (s) => m.h(s) + H.FILE_NEXT);
  w[f + F.OPENS]!--;
  if (w[h + H.FLAGS]! & HandleFlag.WRITE) w[f + F.WRITERS]!--;
  if (w[f + F.WB_HANDLE] === slot) w[f + F.WB_HANDLE] = bestWriteBackHandle(m, file, slot);
  w[h + H.STATE] = HandleState.FREE;
  w[h + H.FILE] = NIL;
  w[h + H.HASH_NEXT] = NIL;
  w[h + H.FILE_NEXT] = NIL;
  w[h + H.FREE_NEXT] = w[HDR.FREE_HANDLE]!;
  w[HDR.FREE_HANDLE] = slot;
  w[HDR.USED_HANDLES]!--;
}

/**
 * The first handle of file slot `file`, other than `excluding`, in `state` whose flags masked with `mask` equal `value`,
 * or NIL. The one walk of a file's handle list behind the questions below.
 */
function fileHandleWhere(m: CacheMemory, file: number, excluding: number, state: number, mask: number, value: number): number {
  const w = m.i32;
  for (let slot = w[m.f(file) + F.FIRST_HANDLE]!; slot !== NIL; slot = w[m.h(slot) + H.FILE_NEXT]!) {
    const h = m.h(slot);
    if (slot !== excluding && w[h + H.STATE] === state && (w[h + H.FLAGS]! & mask) === value) return slot;
  }
  return NIL;
}

/** Flags of a handle that can write back: writable, not O_APPEND (see {@link canWriteBack}). */
const WRITE_BACK_MASK = HandleFlag.WRITE | HandleFlag.APPEND;

/**
 * A handle of file slot `file` to write back through, other than `excluding`: an open writable handle without
 * O_APPEND (an O_APPEND handle would put every write-back at the end of the file), or NIL.
 */
export function bestWriteBackHandle(m: CacheMemory, file: number, excluding: number): number {
  return fileHandleWhere(m, file, excluding, HandleState.OPEN, WRITE_BACK_MASK, HandleFlag.WRITE);
}

/**
 * Decides, for handle slot `slot` of file slot `file` that its closer has marked CLOSING, whether that closer must
 * write the file's dirty blocks back itself: when the handle is the file's write-back handle (or the file has none and
 * this handle can be one) and no other open handle can take over. When one can, the write-back moves to it now, under
 * the same mutex the other handle's closer decides under. Moving it only when the handle left the table let two
 * handles closing at once each leave the dirty blocks to the other: the first saw the second still open, the second
 * saw the first still the write-back handle, and once both were gone no handle was left to write them back through.
 */
export function handOverWriteBack(m: CacheMemory, file: number, slot: number): boolean {
  const w = m.i32;
  const f = m.f(file);
  const current = w[f + F.WB_HANDLE]!;
  if (current !== slot && !(current === NIL && canWriteBack(w[m.h(slot) + H.FLAGS]!))) return false;
  const next = bestWriteBackHandle(m, file, slot);
  if (next !== NIL) {
    w[f + F.WB_HANDLE] = next;
    return false;
  }
  return w[f + F.DIRTY]! > 0;
}

/**
 * True when no handle of file slot `file` other than `slot` is open for writing: the closer of `slot` is then the
 * file's last writer, and records the backend's attributes after its own writes as the file's new baseline. Handles
 * being closed do not count. Counting them (the file's WRITERS, which only `removeHandle` lowers) let two writers
 * closing at once each see the other and neither record the baseline; the next open then took the file as changed
 * behind the cache and dropped its blocks.
 */
export function lastOpenWriter(m: CacheMemory, file: number, slot: number): boolean {
  return fileHandleWhere(m, file, slot, HandleState.OPEN, HandleFlag.WRITE, HandleFlag.WRITE) === NIL;
}

/** True when a handle of file slot `file` that can write back is being closed (its closer writes back or hands over). */
export function closingWriteBackHandle(m: CacheMemory, file: number): boolean {
  return fileHandleWhere(m, file, NIL, HandleState.CLOSING, WRITE_BACK_MASK, HandleFlag.WRITE) !== NIL;
}

/** True for handle flags that allow writing back through the handle: writable, not O_APPEND. */
export function canWriteBack(flags: number): boolean {
  return (flags & WRITE_BACK_MASK) === HandleFlag.WRITE;
}
