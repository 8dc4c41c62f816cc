/** @module test/services/client-cache/cache/conformance — the POSIX conformance suite through the cache over the local backend, in both write-back modes. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CacheConfig } from "../../../../kernel/config/index.ts";
import { LocalBackend } from "../../../../services/client-cache/backend/index.ts";
import { CachedFileSystem, SharedCache } from "../../../../services/client-cache/cache/index.ts";
import { runConformance } from "../../../conformance/index.ts";

for (const writeback of ["async", "sync"] as const) {
  for (const blockSizeBytes of [4096, 65536]) {
    runConformance(`cache over local backend (${writeback}, ${blockSizeBytes / 1024} KiB blocks)`, {
      async newFs() {
        const base = mkdtempSync(join(tmpdir(), "danaus-cache-"));
        const inner = new LocalBackend(join(base, "root"));
        const config: CacheConfig = {
          sizeBytes: 4 * 1024 * 1024,
          maxDirtyBytes: 2 * 1024 * 1024,
          blockSizeBytes,
          writebackMs: 1000,
          expireMs: 5000,
          writeback,
        };
        const cache = SharedCache.attach(SharedCache.create(config));
        const fs = new CachedFileSystem(inner, cache, 1);
        return {
          fs,
          cleanup() {
            inner.dispose();
            rmSync(base, { recursive: true, force: true });
          },
        };
      },
      capabilities: { renameFlags: true, chown: true, hardLinks: true, largeFiles: true, symlinks: true, fifoIo: true },
    });
  }
}
