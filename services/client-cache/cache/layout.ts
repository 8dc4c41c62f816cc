/**
 * @module layout — the shared cache's memory map, declared once: which 32-bit word or 64-bit float of the metadata
 * SharedArrayBuffer holds what, for the header, the blocks, the files and the handles, and how big each table is.
 * The block data lives in separate SharedArrayBuffers ("segments", at most 1 GiB each, allocated lazily by the OS).
 */
import type { CacheConfig } from "../../../kernel/config/index.ts";

/** Header words (Int32). */
export const HDR = {
  /** The cache mutex (0 free, 1 held, 2 held with waiters). */
  LOCK: 0,
  /** Bumped by every namespace or attribute change through any thread: attribute caches older than it are invalid. */
  GEN: 1,
  /** The CLOCK hand: the next block slot the eviction sweep looks at. */
  HAND: 2,
  FREE_BLOCK: 3,
  FREE_FILE: 4,
  FREE_HANDLE: 5,
  /** The global dirty list, oldest first. */
  DIRTY_HEAD: 6,
  DIRTY_TAIL: 7,
  DIRTY_BLOCKS: 8,
  USED_BLOCKS: 9,
  USED_FILES: 10,
  USED_HANDLES: 11,
  /** Bumped (and notified) whenever a block fill ends: threads waiting for someone else's fill sleep on it. */
  FILL_SEQ: 12,
} as const;
const HDR_WORDS = 16;

/** Header statistics (Float64), updated under the mutex. */
export const STAT = {
  HITS: 0,
  MISSES: 1,
  EVICTIONS: 2,
  WRITE_BACKS: 3,
  WRITE_BACK_BYTES: 4,
  FILL_BYTES: 5,
  WRITE_THROUGH_BYTES: 6,
  WRITE_BACK_ERRORS: 7,
} as const;
const STAT_WORDS = 8;

/** Block slot words (Int32). */
export const B = {
  /** FREE, FILLING or VALID (see {@link BlockState}). */
  STATE: 0,
  /** {@link BlockFlag} bits. */
  FLAGS: 1,
  /** Threads copying from or into the block's data outside the mutex (a pinned block is never evicted or reused). */
  PINS: 2,
  /** Writers between marking the block dirty and finishing their copy (background write-back leaves it alone). */
  WRITERS: 3,
  /** The file slot, -1 for an orphan (dropped while pinned; freed at the last unpin). */
  FILE: 4,
  /** The block index in the file (unsigned 32-bit). */
  INDEX: 5,
  HASH_NEXT: 6,
  FILE_PREV: 7,
  FILE_NEXT: 8,
  DIRTY_PREV: 9,
  DIRTY_NEXT: 10,
  /** The dirty byte range [DIRTY_LO, DIRTY_HI) inside the block. */
  DIRTY_LO: 11,
  DIRTY_HI: 12,
} as const;
const B_WORDS = 13;
/** Block slot floats: when the block became dirty (ms, the cache clock). */
export const BF = { DIRTY_SINCE: 0 } as const;
const BF_WORDS = 1;

/** Block states. */
export const BlockState = { FREE: 0, FILLING: 1, VALID: 2 } as const;
/** Block flag bits. */
export const BlockFlag = { DIRTY: 1, REF: 2, ORPHAN: 4 } as const;

/** File slot words (Int32). */
export const F = {
  USED: 0,
  BACKEND: 1,
  DEV_LO: 2,
  DEV_HI: 3,
  INO_LO: 4,
  INO_HI: 5,
  HASH_NEXT: 6,
  /** Open cached handles. */
  OPENS: 7,
  /** Open cached handles that can write. */
  WRITERS: 8,
  /** Short-lived references (a write-back or a truncate in progress) that keep the slot from being reused. */
  REFS: 9,
  BLOCKS: 10,
  DIRTY: 11,
  /** Blocks whose write-back is in flight (cleaned, not yet in the backend). */
  INFLIGHT: 12,
  /** Writes between reserving their range and finishing their copy. */
  ACTIVE: 13,
  /** The per-file I/O lock (a futex word like HDR.LOCK), held across backend I/O that must not interleave. */
  IO_LOCK: 14,
  FIRST_BLOCK: 15,
  FIRST_HANDLE: 16,
  /** The handle slot dirty blocks are written back through, -1 when none. */
  WB_HANDLE: 17,
  /** A write-back error (errno) not yet reported by fsync or close. */
  ERROR: 18,
  /** {@link FileFlag} bits. */
  FLAGS: 19,
  FREE_NEXT: 20,
} as const;
const F_WORDS = 21;
/** File slot floats. */
export const FF = {
  /** The size this process sees (the backend's plus what is dirty or being written). */
  SIZE: 0,
  /** What the backend holds, as far as this cache knows (fstat at open, then our write-backs and truncates). */
  BACKEND_SIZE: 1,
  /** mtime/ctime (ms) of the last write into the cache: shown by stat while data is not yet written back. */
  WRITE_TIME: 2,
  /** The backend's (size, mtime, ctime) the cached blocks were filled under: the close-to-open validation key. */
  BASE_SIZE: 3,
  BASE_MTIME_SEC: 4,
  BASE_MTIME_NSEC: 5,
  BASE_CTIME_SEC: 6,
  BASE_CTIME_NSEC: 7,
} as const;
const FF_WORDS = 8;
/** File flag bits. */
export const FileFlag = { UNLINKED: 1 } as const;

/** Handle slot words (Int32). */
export const H = {
  /** FREE, OPEN or CLOSING (see {@link HandleState}). */
  STATE: 0,
  BACKEND: 1,
  HANDLE: 2,
  FILE: 3,
  /** {@link HandleFlag} bits. */
  FLAGS: 4,
  /** Write-backs by other threads using the handle right now; close waits for them. */
  USERS: 5,
  HASH_NEXT: 6,
  /** The next handle of the same file. */
  FILE_NEXT: 7,
  FREE_NEXT: 8,
} as const;
const H_WORDS = 9;
/** Handle slot floats: the file position of read/write/lseek. */
export const HF = { POSITION: 0 } as const;
const HF_WORDS = 1;

/** Handle states. */
export const HandleState = { FREE: 0, OPEN: 1, CLOSING: 2 } as const;
/** Handle flag bits. */
export const HandleFlag = { READ: 1, WRITE: 2, APPEND: 4, DIRECT: 8, SYNC: 16 } as const;

/** The end-of-list value of every link word. */
export const NIL = -1;

/** Sizes of the tables, derived from the config at creation. */
export interface CacheGeometry {
  readonly blockSize: number;
  /** Block slots: sizeBytes / blockSize, rounded down. */
  readonly blocks: number;
  readonly files: number;
  readonly handles: number;
  readonly blockBuckets: number;
  readonly fileBuckets: number;
  readonly handleBuckets: number;
  /** Block slots per data segment. */
  readonly segmentBlocks: number;
}

/** Where each table starts: Int32 indexes for word tables, Float64 indexes for float tables. */
export interface CacheOffsets {
  readonly blocks: number;
  readonly blockBuckets: number;
  readonly files: number;
  readonly fileBuckets: number;
  readonly handles: number;
  readonly handleBuckets: number;
  readonly int32Words: number;
  /** Float64 tables start at this byte offset of the metadata buffer. */
  readonly float64Byte: number;
  readonly blockFloats: number;
  readonly fileFloats: number;
  readonly handleFloats: number;
  readonly float64Words: number;
}

/** Words per slot of each table, for the code that addresses them. */
export const WORDS = { B: B_WORDS, BF: BF_WORDS, F: F_WORDS, FF: FF_WORDS, H: H_WORDS, HF: HF_WORDS } as const;

/**
 * A shared cache as plain data: pass it to Workers with postMessage and attach it there
 * (`SharedCache.attach`). Everything the cache knows lives in these buffers.
 */
export interface SharedCacheData {
  readonly kind: "danaus-shared-cache";
  /** A random number naming this cache, so a thread attaches it once however many copies of this object it gets. */
  readonly id: number;
  readonly config: Readonly<CacheConfig>;
  readonly geometry: CacheGeometry;
  readonly meta: SharedArrayBuffer;
  readonly segments: readonly SharedArrayBuffer[];
}

/** Sizing options beyond the tenant's CacheConfig. */
export interface SharedCacheOptions {
  /** Cached handles open at once (opens beyond it fail with ENFILE). Default 16384. */
  readonly maxHandles?: number;
}

/** Largest data segment. */
const SEGMENT_BYTES = 1 << 30;

function nextPowerOfTwo(n: number): number {
  let p = 16;
  while (p < n) p *= 2;
  return p;
}

/** The table sizes for `config`. Throws RangeError when the cache cannot hold one block. */
export function geometryOf(config: CacheConfig, options: SharedCacheOptions = {}): CacheGeometry {
  const blockSize = config.blockSizeBytes;
  if (!Number.isInteger(blockSize) || blockSize < 512 || (blockSize & (blockSize - 1)) !== 0) {
    throw new RangeError(`cache.blockSize ${blockSize} is not a power of two of at least 512 bytes`);
  }
  const blocks = Math.floor(config.sizeBytes / blockSize);
  if (blocks < 1) throw new RangeError(`cache.size ${config.sizeBytes} holds no block of ${blockSize} bytes`);
  if (blocks > 0x3fffffff) throw new RangeError(`cache.size ${config.sizeBytes} needs too many blocks of ${blockSize} bytes`);
  const handles = options.maxHandles ?? 16384;
  if (!Number.isInteger(handles) || handles < 1) throw new RangeError(`maxHandles ${handles} must be a positive integer`);
  // A file slot lives while it has a block or an open handle, so this many can never run out.
  const files = blocks + handles;
  return {
    blockSize,
    blocks,
    files,
    handles,
    blockBuckets: nextPowerOfTwo(blocks),
    fileBuckets: nextPowerOfTwo(files),
    handleBuckets: nextPowerOfTwo(handles),
    segmentBlocks: Math.max(1, Math.floor(SEGMENT_BYTES / blockSize)),
  };
}

/** The offsets of every table for `g`. */
export function offsetsOf(g: CacheGeometry): CacheOffsets {
  const blocks = HDR_WORDS;
  const blockBuckets = blocks + g.blocks * B_WORDS;
  const files = blockBuckets + g.blockBuckets;
  const fileBuckets = files + g.files * F_WORDS;
  const handles = fileBuckets + g.fileBuckets;
  const handleBuckets = handles + g.handles * H_WORDS;
  const int32Words = handleBuckets + g.handleBuckets;
  const float64Byte = Math.ceil((int32Words * 4) / 8) * 8;
  const blockFloats = STAT_WORDS;
  const fileFloats = blockFloats + g.blocks * BF_WORDS;
  const handleFloats = fileFloats + g.files * FF_WORDS;
  const float64Words = handleFloats + g.handles * HF_WORDS;
  return { blocks, blockBuckets, files, fileBuckets, handles, handleBuckets, int32Words, float64Byte, blockFloats, fileFloats, handleFloats, float64Words };
}

/** Allocates the buffers of a cache for `config` with every table empty (free lists threaded, buckets NIL). */
export function allocate(config: CacheConfig, options: SharedCacheOptions = {}): SharedCacheData {
  const geometry = geometryOf(config, options);
  const at = offsetsOf(geometry);
  const meta = new SharedArrayBuffer(at.float64Byte + at.float64Words * 8);
  const i32 = new Int32Array(meta, 0, at.int32Words);
  // Every bucket starts empty; the slots are initialised one by one below.
  i32.fill(NIL, at.blocks, at.int32Words);
  for (let s = 0; s < geometry.blocks; s++) {
    const b = at.blocks + s * B_WORDS;
    i32.fill(0, b, b + B_WORDS);
    i32[b + B.FILE] = NIL;
    i32[b + B.HASH_NEXT] = s + 1 < geometry.blocks ? s + 1 : NIL;
    for (const link of [B.FILE_PREV, B.FILE_NEXT, B.DIRTY_PREV, B.DIRTY_NEXT]) i32[b + link] = NIL;
  }
  for (let s = 0; s < geometry.files; s++) {
    const f = at.files + s * F_WORDS;
    i32.fill(0, f, f + F_WORDS);
    for (const link of [F.HASH_NEXT, F.FIRST_BLOCK, F.FIRST_HANDLE, F.WB_HANDLE]) i32[f + link] = NIL;
    i32[f + F.FREE_NEXT] = s + 1 < geometry.files ? s + 1 : NIL;
  }
  for (let s = 0; s < geometry.handles; s++) {
    const h = at.handles + s * H_WORDS;
    i32.fill(0, h, h + H_WORDS);
    for (const link of [H.HASH_NEXT, H.FILE_NEXT, H.FILE]) i32[h + link] = NIL;
    i32[h + H.FREE_NEXT] = s + 1 < geometry.handles ? s + 1 : NIL;
  }
  i32[HDR.FREE_BLOCK] = 0;
  i32[HDR.FREE_FILE] = 0;
  i32[HDR.FREE_HANDLE] = 0;
  i32[HDR.DIRTY_HEAD] = NIL;
  i32[HDR.DIRTY_TAIL] = NIL;
  const segments: SharedArrayBuffer[] = [];
  for (let first = 0; first < geometry.blocks; first += geometry.segmentBlocks) {
    segments.push(new SharedArrayBuffer(Math.min(geometry.segmentBlocks, geometry.blocks - first) * geometry.blockSize));
  }
  const random = crypto.getRandomValues(new Uint32Array(2));
  const id = (random[0]! & 0x1fffff) * 2 ** 32 + random[1]!;
  return { kind: "danaus-shared-cache", id, config: { ...config }, geometry, meta, segments };
}
