/**
 * @module scripts/ceph — the project's single-node Ceph cluster (mon, osd, mds; mgr on request) for tests and
 * benchmarks: `bun run ceph up|down|status`. Loopback only, no auth, everything under one directory.
 */
import { join } from "node:path";

export { down, FS_NAME, status, up, type ClusterStatus, type UpOptions } from "./cluster.ts";
export { OBJECTSTORES, type Objectstore } from "./conf.ts";
export { ClusterError } from "./daemons.ts";
export { CEPH_PACKAGES, PEER_PACKAGES, ensurePackages, missingPackages, MissingPackagesError } from "./packages.ts";

/** The cluster directory used when none is given: `.danaus/ceph` in the project. */
export const DEFAULT_CLUSTER_DIR = join(import.meta.dir, "..", "..", ".danaus", "ceph");
