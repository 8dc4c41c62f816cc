/** @module stats — the shared cache's counters as plain numbers, for `danaus status` and the tests. */
import { HDR, STAT } from "./layout.ts";
import type { CacheMemory } from "./memory.ts";

/** A snapshot of one shared cache (all threads together). Byte counts are whole blocks. */
export interface CacheStats {
  /** The block data capacity: blocks × block size (≤ cache.size). */
  readonly capacityBytes: number;
  readonly blockSizeBytes: number;
  /** Bytes of blocks in use (valid, being filled, or dropped but still being copied). Never above capacityBytes. */
  readonly cachedBytes: number;
  /** Bytes of dirty blocks. Never above maxDirtyBytes (see the write path for the one transient exception). */
  readonly dirtyBytes: number;
  readonly maxDirtyBytes: number;
  /** Blocks found in the cache by reads and writes. */
  readonly hits: number;
  /** Blocks a read had to fetch from the backend. */
  readonly misses: number;
  /** Clean blocks evicted to make room. */
  readonly evictions: number;
  /** Backend writes done by write-back (one per run of adjacent dirty blocks). */
  readonly writeBacks: number;
  readonly writeBackBytes: number;
  /** Write-backs the backend refused (the data was dropped; fsync or close of the file reports the error). */
  readonly writeBackErrors: number;
  /** Bytes read from the backend to fill blocks. */
  readonly fillBytes: number;
  /** Bytes written straight to the backend ("sync" mode, O_APPEND, O_DIRECT/O_SYNC, fallbacks). */
  readonly writeThroughBytes: number;
  /** Files with cached blocks or open cached handles. */
  readonly files: number;
  /** Open cached handles. */
  readonly openHandles: number;
}

/** Reads the counters of `m` (takes the cache mutex briefly, so the numbers are one consistent snapshot). */
export function readStats(m: CacheMemory, maxDirtyBytes: number): CacheStats {
  m.lock();
  try {
    const w = m.i32;
    const s = m.f64;
    const block = m.blockSize;
    return {
      capacityBytes: m.geometry.blocks * block,
      blockSizeBytes: block,
      cachedBytes: w[HDR.USED_BLOCKS]! * block,
      dirtyBytes: w[HDR.DIRTY_BLOCKS]! * block,
      maxDirtyBytes,
      hits: s[STAT.HITS]!,
      misses: s[STAT.MISSES]!,
      evictions: s[STAT.EVICTIONS]!,
      writeBacks: s[STAT.WRITE_BACKS]!,
      writeBackBytes: s[STAT.WRITE_BACK_BYTES]!,
      writeBackErrors: s[STAT.WRITE_BACK_ERRORS]!,
      fillBytes: s[STAT.FILL_BYTES]!,
      writeThroughBytes: s[STAT.WRITE_THROUGH_BYTES]!,
      files: w[HDR.USED_FILES]!,
      openHandles: w[HDR.USED_HANDLES]!,
    };
  } finally {
    m.unlock();
  }
}
