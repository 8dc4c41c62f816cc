/** @module pool — per-tenant pools (cgroups with reserved cores and a memory cap) and how to start processes in them. */
export { detectPoolSupport } from "./detect.ts";
export { PoolManager } from "./manager.ts";
export { PLACEMENT_FAILED_EXIT } from "./placement.ts";
export { PoolError } from "./pool-error.ts";
export type { Pool, PoolSpec, PoolSupport } from "./types.ts";
export { buildPlacementArgv } from "./placement.ts";
export { poolProcsFiles } from "./procs-files.ts";
