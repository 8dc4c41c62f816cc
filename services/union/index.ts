/** @module union — the union libservice: one view over an ordered stack of branches (paper §2.2, §4.2). */
import type { ServiceDefinition } from "../../kernel/service-host/index.ts";

export { createUnionShared, type UnionShared } from "./shared.ts";
export { UnionFileSystem, type UnionBranches } from "./union-file-system.ts";

/**
 * The union service. At this stage it serves only control messages and heartbeats; the union filesystem itself
 * ({@link UnionFileSystem}: branch table, whiteouts, copy-up) is exported here but not yet wired into the service's
 * request loop. It reports the union mounts it will serve.
 */
export const unionService: ServiceDefinition = {
  name: "union",
  start(ctx) {
    const unions = ctx.tenant.mounts.filter((m) => m.kind === "union").map((m) => m.path);
    ctx.log.info("union started (control plane only)", { mounts: unions });
    return {};
  },
};
