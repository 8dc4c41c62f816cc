/** @module union — the union libservice: one view over an ordered stack of branches (paper §2.2, §4.2). */
import type { ServiceDefinition } from "../../kernel/service-host/index.ts";
import { placementOf, serverOf } from "../tenant-stack.ts";

export { createUnionShared, type UnionShared } from "./shared.ts";
export { type RenameDir, UnionFileSystem, type UnionBranches, type UnionOptions } from "./union-file-system.ts";

/**
 * The union service: the tenant's union instances ({@link UnionFileSystem}: branch tables, copy-up, whiteouts, merged
 * readdir). Where it runs is the tenant's `topology` (see services/tenant-stack.ts): in the process of the ipc-router
 * or of client-cache, that server's threads stack the union on the branches directly (function calls); in a process
 * of its own, this service runs a channel server of its own that serves the union mounts to the ipc-router, over
 * branches served by the client-cache process.
 */
export const unionService: ServiceDefinition = {
  name: "union",
  async start(ctx) {
    const placement = placementOf(ctx.tenant.topology);
    const unions = ctx.tenant.mounts.filter((m) => m.kind === "union").map((m) => m.path);
    if (serverOf(placement, placement.union) !== "union") {
      ctx.log.info("union runs in its process's server", { mounts: unions, server: serverOf(placement, placement.union) });
      return {};
    }
    const { DataPathServer } = await import("../data-path-server.ts");
    const server = await DataPathServer.start(ctx, "union");
    return { stop: () => server.stop() };
  },
};
