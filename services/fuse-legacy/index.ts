/** @module fuse-legacy — the kernel path (paper §3.2): a FUSE server per mount that needs exec, mmap or unmodified binaries. */
import type { ServiceDefinition } from "../../kernel/service-host/index.ts";

/**
 * The fuse-legacy service. Started only when a mount of the tenant has `legacy = true`. At this stage it serves only
 * control messages and heartbeats; the FUSE protocol arrives with the fuse-legacy issue.
 */
export const fuseLegacyService: ServiceDefinition = {
  name: "fuse-legacy",
  start(ctx) {
    const legacy = ctx.tenant.mounts.filter((m) => m.legacy).map((m) => m.path);
    ctx.log.info("fuse-legacy started (control plane only)", { mounts: legacy });
    return {};
  },
};
