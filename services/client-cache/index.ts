/** @module client-cache — the tenant's backend client and its shared cache (paper §3.3–3.4). */
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ServiceDefinition } from "../../kernel/service-host/index.ts";
import { placementOf, serverOf } from "../tenant-stack.ts";

export { attachMount, DEFAULT_CEPH_OPTIONS, TenantStorage, type MountBranches, type StorageShared } from "./storage.ts";

/**
 * The client-cache service: the tenant's backend client and its shared cache with the write-back ({@link TenantStorage}).
 * It first prepares the `local` backend (its root directory, mode 0700, and each direct mount's source directory:
 * parents 0700, the source itself 0755 like every mount's root directory, see storage.ts). Grouped with the ipc-router
 * (the default topology) the router opens the storage and its threads call the cache directly. In a process without
 * the router it opens the storage itself and serves the backend directories the others need (and the union mounts,
 * when union shares its process) over a channel server of its own (see services/tenant-stack.ts).
 */
export const clientCacheService: ServiceDefinition = {
  name: "client-cache",
  async start(ctx) {
    const backend = ctx.tenant.backend;
    if (backend.kind === "local") {
      mkdirSync(backend.root, { recursive: true, mode: 0o700 });
      for (const mount of ctx.tenant.mounts) {
        if (mount.kind !== "direct") continue;
        const source = join(backend.root, mount.source);
        if (mkdirSync(source, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(source, 0o755);
      }
    }
    const placement = placementOf(ctx.tenant.topology);
    if (serverOf(placement, placement["client-cache"]) !== "client-cache") {
      ctx.log.info("client-cache runs in the ipc-router's process", { backend: backend.kind, root: backend.root });
      return {};
    }
    const { DataPathServer } = await import("../data-path-server.ts");
    const server = await DataPathServer.start(ctx, "client-cache");
    ctx.log.info("client-cache started", { backend: backend.kind, root: backend.root });
    return { stop: () => server.stop() };
  },
};
