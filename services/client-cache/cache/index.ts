/**
 * @module cache — the tenant's shared client cache (paper §3.3–3.4): one block cache per tenant process in
 * SharedArrayBuffers, shared by all its Workers, keyed by backend file identity so a file is held once, with
 * write-back, close-to-open validation and attribute caching, presented as a FileSystem wrapping the backend's.
 */
export { SharedCache, cacheStats, type AttachOptions, type BackendResolver } from "./shared-cache.ts";
export type { SharedCacheData, SharedCacheOptions, CacheGeometry } from "./layout.ts";
export { CachedFileSystem, type CachedFileSystemOptions } from "./cached-file-system.ts";
export type { CacheStats } from "./stats.ts";
export {
  startWriteBackThread, startWriteBackTimer, type BackendOpener, type WriteBackThread, type WriteBackTimer,
} from "./write-back-thread.ts";
