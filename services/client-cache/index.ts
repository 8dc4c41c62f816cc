/** @module client-cache — the tenant's backend client and its shared cache (paper §3.3–3.4). */
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ServiceDefinition } from "../../kernel/service-host/index.ts";

export { attachMount, DEFAULT_CEPH_OPTIONS, TenantStorage, type MountBranches, type StorageShared } from "./storage.ts";

/**
 * The client-cache service. At this stage it prepares the backend (the `local` backend's root directory, mode 0700,
 * and each direct mount's source directory: parents 0700, the source itself 0755 like every mount's root directory,
 * see storage.ts); the data path opens its instances in the ipc-router's service threads.
 * The cache and the cephfs backend arrive with their issue.
 */
export const clientCacheService: ServiceDefinition = {
  name: "client-cache",
  start(ctx) {
    const backend = ctx.tenant.backend;
    if (backend.kind === "local") {
      mkdirSync(backend.root, { recursive: true, mode: 0o700 });
      for (const mount of ctx.tenant.mounts) {
        if (mount.kind !== "direct") continue;
        const source = join(backend.root, mount.source);
        if (mkdirSync(source, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(source, 0o755);
      }
    }
    ctx.log.info("client-cache started", { backend: backend.kind, root: backend.root });
    return {};
  },
};
