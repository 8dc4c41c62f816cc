/** @module ipc-router — the tenant's back driver (paper §3.5, §4.1): request queues, client registry, mount table. */
import type { ServiceDefinition } from "../../kernel/service-host/index.ts";

/**
 * The ipc-router service. At this stage it serves only control messages and heartbeats; the shared-memory queues
 * and the client registry arrive with the data-path issue.
 */
export const ipcRouterService: ServiceDefinition = {
  name: "ipc-router",
  start(ctx) {
    ctx.log.info("ipc-router started (control plane only)", { mounts: ctx.tenant.mounts.map((m) => m.path) });
    return {};
  },
};
