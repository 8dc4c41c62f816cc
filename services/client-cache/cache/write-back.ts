/**
 * @module write-back — writing dirty blocks back to the backend: one file at a time under its I/O lock, through the
 * handle recorded for the file, adjacent dirty blocks coalesced into one backend write; and the choice of which
 * files to write back first (the oldest dirty block's). A block is marked clean before its data is copied out, so a
 * write landing meanwhile makes it dirty again and it is written again later: no update is lost.
 *
 * A backend error drops the blocks that could not be written (their data is lost, as Linux drops pages whose
 * write-back failed) and is recorded in the file, to be reported once by the next fsync, fdatasync or close of it.
 */
import { ERRNO, FsError, type FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import { writeFully } from "./backend-io.ts";
import { dropBlock, markClean, unpin } from "./blocks.ts";
import { dropReference, takeReference } from "./files.ts";
import { bestWriteBackHandle } from "./handles.ts";
import { B, BF, BlockFlag, BlockState, F, FF, H, HandleState, HDR, NIL, STAT } from "./layout.ts";
import type { CacheMemory } from "./memory.ts";
import type { SharedCache } from "./shared-cache.ts";

/** Which dirty blocks of one file {@link writeBackFile} takes. */
export interface WriteBackSelection {
  /**
   * Every dirty block, also those a writer is copying into right now (fsync, close, truncate: everything written
   * before the call must reach the backend). Otherwise only blocks no writer is in, oldest first.
   */
  readonly all?: boolean;
  /** Only blocks dirty since this time (ms) or earlier. */
  readonly dirtyBefore?: number;
  /** At most this many blocks. */
  readonly limit?: number;
  /** Write through this handle slot (a closing thread's own) instead of the file's recorded write-back handle. */
  readonly via?: number;
}

/** What one {@link writeBackFile} did. */
export interface WriteBackOutcome {
  /** Blocks whose dirty data reached the backend. */
  readonly blocks: number;
  /** True when nothing was tried: the file's I/O lock was busy, or no handle or backend to write through. */
  readonly skipped: boolean;
  /** The backend's error, when a write failed (also recorded in the file). */
  readonly error?: FsError;
}

const SKIPPED: WriteBackOutcome = { blocks: 0, skipped: true };
const NOTHING: WriteBackOutcome = { blocks: 0, skipped: false };

interface Chosen {
  readonly slot: number;
  readonly index: number;
  readonly lo: number;
  readonly hi: number;
}

/**
 * Writes back dirty blocks of file slot `file` (the caller keeps the slot alive). Takes the file's I/O lock, waiting
 * for it when `wait` is true. Throws only for bugs; backend errors are in the outcome and the file.
 */
export function writeBackFile(cache: SharedCache, file: number, selection: WriteBackSelection, wait: boolean): WriteBackOutcome {
  const m = cache.memory;
  const w = m.i32;
  const inner = cache.backend(w[m.f(file) + F.BACKEND]!);
  if (inner === undefined || !cache.io.acquire(file, wait)) return SKIPPED;
  try {
    const chosen: Chosen[] = [];
    let handleSlot: number;
    m.lock();
    try {
      handleSlot = selection.via ?? w[m.f(file) + F.WB_HANDLE]!;
      // A handle being closed is written through only by its closing thread, which waits for no one else using it;
      // until it hands the write-back over, any other open handle that can write back will do.
      if (selection.via === undefined && (handleSlot === NIL || w[m.h(handleSlot) + H.STATE] !== HandleState.OPEN)) {
        handleSlot = bestWriteBackHandle(m, file, NIL);
      }
      if (handleSlot === NIL) return SKIPPED;
      collect(m, file, selection, chosen);
      if (chosen.length === 0) return NOTHING;
      chosen.sort((a, b) => a.index - b.index);
      for (const block of chosen) {
        markClean(m, block.slot);
        w[m.b(block.slot) + B.PINS]!++;
      }
      w[m.f(file) + F.INFLIGHT]! += chosen.length;
      w[m.h(handleSlot) + H.USERS]!++;
    } finally {
      m.unlock();
    }
    const handle = w[m.h(handleSlot) + H.HANDLE]!;
    let written = 0;
    let runs = 0;
    let bytes = 0;
    let failure: unknown;
    try {
      for (let first = 0; first < chosen.length; ) {
        const last = runEnd(chosen, first, m.blockSize, cache.writeRunBytes);
        bytes += writeRun(cache, inner, handle, chosen, first, last);
        runs++;
        written = last + 1;
        first = last + 1;
      }
    } catch (error) {
      failure = error;
    }
    m.lock();
    try {
      const ff = m.ff(file);
      for (let i = 0; i < chosen.length; i++) {
        const block = chosen[i]!;
        if (i < written) {
          const end = block.index * m.blockSize + block.hi;
          if (end > m.f64[ff + FF.BACKEND_SIZE]!) m.f64[ff + FF.BACKEND_SIZE] = end;
        } else {
          dropBlock(m, block.slot);
        }
        unpin(m, block.slot);
      }
      m.f64[STAT.WRITE_BACKS]! += runs;
      m.f64[STAT.WRITE_BACK_BYTES]! += bytes;
      if (failure !== undefined) {
        w[m.f(file) + F.ERROR] = failure instanceof FsError ? failure.errno : ERRNO.EIO;
        m.f64[STAT.WRITE_BACK_ERRORS]!++;
      }
      // Before the file stops counting as pending: a stat that then sees no overlay must see the new generation.
      m.bumpGeneration();
      w[m.f(file) + F.INFLIGHT]! -= chosen.length;
      w[m.h(handleSlot) + H.USERS]!--;
    } finally {
      m.unlock();
    }
    Atomics.notify(w, m.h(handleSlot) + H.USERS);
    if (failure !== undefined && !(failure instanceof FsError)) throw failure;
    return { blocks: written, skipped: false, error: failure };
  } finally {
    cache.io.release(file);
  }
}

/** Picks the dirty blocks of `file` that `selection` asks for (under the mutex). */
function collect(m: CacheMemory, file: number, selection: WriteBackSelection, out: Chosen[]): void {
  const w = m.i32;
  const limit = selection.limit ?? Infinity;
  const eligible = (slot: number): boolean => {
    const b = m.b(slot);
    return (
      (w[b + B.FLAGS]! & BlockFlag.DIRTY) !== 0 &&
      w[b + B.STATE] === BlockState.VALID &&
      (selection.all === true || w[b + B.WRITERS] === 0) &&
      (selection.dirtyBefore === undefined || m.f64[m.bf(slot) + BF.DIRTY_SINCE]! <= selection.dirtyBefore)
    );
  };
  const take = (slot: number): void => {
    const b = m.b(slot);
    out.push({ slot, index: w[b + B.INDEX]! >>> 0, lo: w[b + B.DIRTY_LO]!, hi: w[b + B.DIRTY_HI]! });
  };
  if (selection.all === true) {
    for (let slot = w[m.f(file) + F.FIRST_BLOCK]!; slot !== NIL && out.length < limit; slot = w[m.b(slot) + B.FILE_NEXT]!) {
      if (eligible(slot)) take(slot);
    }
    return;
  }
  for (let slot = w[HDR.DIRTY_HEAD]!; slot !== NIL && out.length < limit; slot = w[m.b(slot) + B.DIRTY_NEXT]!) {
    // The dirty list is in dirtying order: past the age limit, every later block is younger still.
    if (selection.dirtyBefore !== undefined && m.f64[m.bf(slot) + BF.DIRTY_SINCE]! > selection.dirtyBefore) break;
    if (w[m.b(slot) + B.FILE] === file && eligible(slot)) take(slot);
  }
}

/** The last index of the run starting at `first`: adjacent blocks whose dirty ranges meet, up to `maxBytes`, not crossing a multiple of it. */
function runEnd(chosen: readonly Chosen[], first: number, blockSize: number, maxBytes: number): number {
  let last = first;
  let bytes = chosen[first]!.hi - chosen[first]!.lo;
  while (last + 1 < chosen.length) {
    const here = chosen[last]!;
    const next = chosen[last + 1]!;
    if (next.index !== here.index + 1 || here.hi !== blockSize || next.lo !== 0 || bytes + next.hi > maxBytes) break;
    // Runs are aligned: one never crosses a multiple of maxBytes (an object boundary on CephFS).
    if ((next.index * blockSize) % maxBytes === 0) break;
    bytes += next.hi;
    last++;
  }
  return last;
}

/** Writes the run chosen[first..last] with one backend write; returns its bytes. */
function writeRun(
  cache: SharedCache,
  inner: FileSystem,
  handle: number,
  chosen: readonly Chosen[],
  first: number,
  last: number,
): number {
  const m = cache.memory;
  const head = chosen[first]!;
  const offset = head.index * m.blockSize + head.lo;
  if (first === last) {
    // One block: straight from shared memory, no copy.
    const data = m.blockBytes(head.slot, head.lo, head.hi);
    writeFully(inner, handle, data, offset);
    return data.length;
  }
  let length = 0;
  for (let i = first; i <= last; i++) length += chosen[i]!.hi - chosen[i]!.lo;
  const buffer = cache.scratch(length);
  let at = 0;
  for (let i = first; i <= last; i++) {
    const block = chosen[i]!;
    buffer.set(m.blockBytes(block.slot, block.lo, block.hi), at);
    at += block.hi - block.lo;
  }
  writeFully(inner, handle, buffer, offset);
  return length;
}

/**
 * Writes back the oldest dirty blocks, file by file, until `goal.blocks` are written or none is left that this
 * thread can write (files busy under another thread's I/O lock, blocks a writer is in, backends it cannot open).
 * With `goal.dirtyBefore`, only blocks dirty since then or earlier. Returns the blocks written.
 */
export function writeBackOldest(cache: SharedCache, goal: { readonly blocks: number; readonly dirtyBefore?: number }): number {
  const m = cache.memory;
  const w = m.i32;
  let cleaned = 0;
  const triedFiles = new Set<number>();
  const triedBackends = new Set<number>();
  while (cleaned < goal.blocks) {
    let file = NIL;
    let resolve: number | undefined;
    m.lock();
    try {
      for (let slot = w[HDR.DIRTY_HEAD]!; slot !== NIL; slot = w[m.b(slot) + B.DIRTY_NEXT]!) {
        const b = m.b(slot);
        if (goal.dirtyBefore !== undefined && m.f64[m.bf(slot) + BF.DIRTY_SINCE]! > goal.dirtyBefore) break;
        const candidate = w[b + B.FILE]!;
        if (triedFiles.has(candidate) || w[b + B.WRITERS] !== 0 || w[b + B.STATE] !== BlockState.VALID) continue;
        const f = m.f(candidate);
        if (Atomics.load(w, f + F.IO_LOCK) !== 0 && !cache.io.holds(candidate)) continue;
        const backendId = w[f + F.BACKEND]!;
        if (cache.backend(backendId) === undefined) {
          if (cache.canResolve() && !triedBackends.has(backendId)) {
            resolve = backendId;
            break;
          }
          continue;
        }
        file = candidate;
        takeReference(m, file);
        break;
      }
    } finally {
      m.unlock();
    }
    if (resolve !== undefined) {
      triedBackends.add(resolve);
      cache.resolveBackend(resolve);
      continue;
    }
    if (file === NIL) break;
    let outcome: WriteBackOutcome = SKIPPED;
    try {
      outcome = writeBackFile(cache, file, { dirtyBefore: goal.dirtyBefore, limit: goal.blocks - cleaned }, false);
    } finally {
      m.lock();
      dropReference(m, file);
      m.unlock();
    }
    cleaned += outcome.blocks;
    if (outcome.blocks === 0) triedFiles.add(file);
  }
  return cleaned;
}

/** The write-back error recorded in file slot `file` (an errno, 0 for none), cleared: it is reported once. */
export function takeWriteBackError(m: CacheMemory, file: number): number {
  m.lock();
  const error = m.i32[m.f(file) + F.ERROR]!;
  m.i32[m.f(file) + F.ERROR] = 0;
  m.unlock();
  return error;
}
