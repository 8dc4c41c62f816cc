/** @module union — the union libservice: one view over an ordered stack of branches (paper §2.2, §4.2). */
import type { ServiceDefinition } from "../../kernel/service-host/index.ts";

export { createUnionShared, type UnionShared } from "./shared.ts";
export { type RenameDir, UnionFileSystem, type UnionBranches, type UnionOptions } from "./union-file-system.ts";

/**
 * The union service's process-level part: control messages, heartbeats and a report of the tenant's union mounts.
 * The union filesystem itself ({@link UnionFileSystem}) is a library the data path stacks directly on the cached
 * branches in every service thread (client-cache's `attachMount`), so a request crosses no extra process.
 */
export const unionService: ServiceDefinition = {
  name: "union",
  start(ctx) {
    const unions = ctx.tenant.mounts.filter((m) => m.kind === "union").map((m) => m.path);
    ctx.log.info("union started", { mounts: unions });
    return {};
  },
};
