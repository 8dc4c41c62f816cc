/**
 * @module shared-cache — one tenant process's client cache: created once as SharedArrayBuffers
 * ({@link SharedCache.create}, plain data a Worker receives by postMessage) and attached in every thread
 * ({@link SharedCache.attach}). The attached object also keeps what is private to a thread: its backend instances
 * (to write back through), its I/O lock depths and its scratch buffer.
 */
import type { CacheConfig } from "../../../kernel/config/index.ts";
import type { FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import { IoLocks } from "./io-lock.ts";
import { allocate, HDR, type SharedCacheData, type SharedCacheOptions } from "./layout.ts";
import { CacheMemory } from "./memory.ts";
import { readStats, type CacheStats } from "./stats.ts";
import { writeBackOldest } from "./write-back.ts";

/** Opens the backend instance of `backendId` in the calling thread, or answers undefined when it cannot. */
export type BackendResolver = (backendId: number) => FileSystem | undefined;

/** Per-thread options of an attached cache. */
export interface AttachOptions {
  /** The cache clock in ms (dirty ages, write times). Default Date.now; tests pass their own. */
  readonly now?: () => number;
}

/** Largest backend read of one run of blocks. */
const RUN_BYTES = 16 * 1024 * 1024;
/**
 * Largest backend write of one run of blocks, and the alignment runs do not cross: 4 MiB, CephFS's default object
 * size, so each write-back write lands in one object. Measured on the project's cluster (a scratch loop of
 * `ceph_ll_write` + fsync over 256 MiB, client_oc off): 4 MiB writes 369 MB/s, 1 MiB 270, 16 MiB 187, 64 MiB 150.
 */
const WRITE_RUN_BYTES = 4 * 1024 * 1024;
/** At most this many blocks are pinned by one step of one read or write. */
const MAX_STEP_BLOCKS = 256;

/** This thread's attachment of each cache (by id), and its I/O lock depths, which every attachment must share. */
const attached = new Map<number, SharedCache>();
const ioLocks = new Map<number, IoLocks>();

/** A shared cache attached in this thread. */
export class SharedCache {
  /** This thread's views of the shared buffers. */
  readonly memory: CacheMemory;
  /** The tenant's cache settings. */
  readonly config: Readonly<CacheConfig>;
  /** This thread's per-file I/O locks. */
  readonly io: IoLocks;
  /** The cache clock (ms). */
  readonly now: () => number;
  /** Most blocks that may be dirty at once: maxDirtyBytes in whole blocks. */
  readonly maxDirtyBlocks: number;
  /** Most blocks one read or write step pins at once. */
  readonly stepBlocks: number;
  /** Most bytes of one backend read of a run of blocks. */
  readonly runBytes: number;
  /** Most bytes of one backend write of a run of blocks; write runs do not cross a multiple of it. */
  readonly writeRunBytes: number;
  private readonly backends = new Map<number, FileSystem>();
  private resolver: BackendResolver | undefined;
  private scratchBuffer = new Uint8Array(0);

  private constructor(readonly data: SharedCacheData, options: AttachOptions) {
    this.memory = new CacheMemory(data);
    this.config = data.config;
    let io = ioLocks.get(data.id);
    if (io === undefined) {
      io = new IoLocks(this.memory);
      ioLocks.set(data.id, io);
    }
    this.io = io;
    this.now = options.now ?? Date.now;
    const block = this.memory.blockSize;
    this.maxDirtyBlocks = Math.max(0, Math.floor(data.config.maxDirtyBytes / block));
    this.stepBlocks = Math.max(1, Math.min(MAX_STEP_BLOCKS, Math.floor(this.memory.geometry.blocks / 4)));
    this.runBytes = Math.max(block, RUN_BYTES);
    this.writeRunBytes = Math.max(block, WRITE_RUN_BYTES);
  }

  /**
   * Allocates a cache for `config` (capacity: sizeBytes in whole blocks of blockSizeBytes, allocated once) and returns
   * it as plain data to attach in each thread. Throws RangeError for a size that holds no block.
   */
  static create(config: CacheConfig, options: SharedCacheOptions = {}): SharedCacheData {
    return allocate(config, options);
  }

  /**
   * The cache `data` attached in the calling thread. Without options, attaching the same cache again in the same
   * thread (even from another copy of `data` received by postMessage) returns the same object, so all the
   * CachedFileSystems of a thread share its backends. With options, a separate attachment (tests: its own clock).
   */
  static attach(data: SharedCacheData, options: AttachOptions = {}): SharedCache {
    if (options.now !== undefined) return new SharedCache(data, options);
    let cache = attached.get(data.id);
    if (cache === undefined) {
      cache = new SharedCache(data, options);
      attached.set(data.id, cache);
    }
    return cache;
  }

  /**
   * Makes `fs` this thread's instance of backend `backendId`: the cache writes back files of that backend through
   * it (any thread may write back any file, through the handle recorded for it). The first registration stays.
   */
  registerBackend(backendId: number, fs: FileSystem): void {
    if (!this.backends.has(backendId)) this.backends.set(backendId, fs);
  }

  /** Sets how this thread opens a backend it has no instance of (the write-back thread does this). */
  setBackendResolver(resolver: BackendResolver | undefined): void {
    this.resolver = resolver;
  }

  /** This thread's instance of backend `backendId`, if registered. Cheap: safe to call under the mutex. */
  backend(backendId: number): FileSystem | undefined {
    return this.backends.get(backendId);
  }

  /** Like {@link backend}, opening it through the resolver when missing. Never call it under the mutex. */
  resolveBackend(backendId: number): FileSystem | undefined {
    const known = this.backends.get(backendId);
    if (known !== undefined || this.resolver === undefined) return known;
    const opened = this.resolver(backendId);
    if (opened !== undefined) this.backends.set(backendId, opened);
    return opened;
  }

  /** True when this thread has a resolver that might open backends it has not registered. */
  canResolve(): boolean {
    return this.resolver !== undefined;
  }

  /** A private buffer of at least `bytes` bytes, reused by this thread's next call (never shared). */
  scratch(bytes: number): Uint8Array {
    if (this.scratchBuffer.length < bytes) this.scratchBuffer = new Uint8Array(Math.max(bytes, 2 * this.scratchBuffer.length));
    return this.scratchBuffer.subarray(0, bytes);
  }

  /** Dirty blocks right now. */
  dirtyBlocks(): number {
    return Atomics.load(this.memory.i32, HDR.DIRTY_BLOCKS);
  }

  /**
   * The periodic write-back, run every `writebackMs` (see {@link startWriteBackThread}); mirrors Linux's flusher:
   * 1. every block dirty for `expireMs` or longer at `now` is written back (dirty_expire_centisecs);
   * 2. then, while dirty bytes are above half of `maxDirtyBytes` (the background threshold, as
   *    dirty_background_ratio is to dirty_ratio), the oldest dirty blocks are written back down to it.
   * Writers that would pass `maxDirtyBytes` itself write back the oldest blocks themselves before dirtying more.
   * Only files whose backend this thread has (registered or resolvable) are written. Returns the blocks written.
   */
  writeBackDue(now: number = this.now()): number {
    let written = writeBackOldest(this, { blocks: Infinity, dirtyBefore: now - this.config.expireMs });
    const over = this.dirtyBlocks() - Math.floor(this.maxDirtyBlocks / 2);
    if (over > 0) written += writeBackOldest(this, { blocks: over });
    return written;
  }

  /**
   * Writes back every block dirty before the call that this thread can reach (shutdown, tests); returns the blocks
   * written. Blocks a writer is copying into at that moment are left for their next write-back.
   */
  flushAll(): number {
    return writeBackOldest(this, { blocks: Infinity, dirtyBefore: this.now() });
  }

  /** The cache's counters (see {@link CacheStats}). */
  stats(): CacheStats {
    return readStats(this.memory, this.config.maxDirtyBytes);
  }
}

/** The counters of a shared cache, given as plain data or attached (attaches in the calling thread if needed). */
export function cacheStats(shared: SharedCacheData | SharedCache): CacheStats {
  return (shared instanceof SharedCache ? shared : SharedCache.attach(shared)).stats();
}
