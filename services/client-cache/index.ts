/** @module client-cache — the tenant's backend client and its shared cache (paper §3.3–3.4). */
import { mkdirSync } from "node:fs";
import type { ServiceDefinition } from "../../kernel/service-host/index.ts";

/**
 * The client-cache service. At this stage it prepares the backend (the `local` backend's root directory, mode 0700)
 * and serves control messages and heartbeats; the cache and the cephfs backend arrive with their issues.
 */
export const clientCacheService: ServiceDefinition = {
  name: "client-cache",
  start(ctx) {
    const backend = ctx.tenant.backend;
    if (backend.kind === "local") mkdirSync(backend.root, { recursive: true, mode: 0o700 });
    ctx.log.info("client-cache started (control plane only)", { backend: backend.kind, root: backend.root });
    return {};
  },
};
