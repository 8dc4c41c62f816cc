/**
 * @module danaus-tenant — the danaus side of the kernel-path benchmarks: a real supervisor (the integration tests'
 * Harness) with one tenant on the cluster's CephFS whose `[[mounts]]` are given, started until every legacy mount is
 * a FUSE mount, and stopped again with every mount point gone.
 */
import { rmSync } from "node:fs";
import { isMountPoint } from "../kernel/sys/mounts.ts";
import { Harness, waitFor } from "../test/integration/harness.ts";

/** The tenant's name in every kernel-path benchmark. */
export const BENCH_TENANT = "alpha";

/** Where fuse-legacy runs: its own process (the default), or the data-path process (see README, "The kernel path"). */
export type Placement = "own process" | "in-process";

/** The two placements, with the names the benchmark tables give them. */
export const PLACEMENTS: readonly { readonly placement: Placement; readonly name: string }[] = [
  { placement: "own process", name: "danaus" },
  { placement: "in-process", name: "danaus in-process" },
];

/**
 * A tenant file for {@link BENCH_TENANT} on CephFS (`conf`, subtree `root`) with the given `[[mounts]]` tables, and
 * fuse-legacy placed as `placement` says.
 */
export function cephTenantToml(conf: string, root: string, cpus: readonly number[], memory: string, mounts: readonly string[], placement: Placement = "own process"): string {
  const topology = placement === "in-process" ? [`topology = [["client-cache", "union", "ipc-router", "fuse-legacy"]]`] : [];
  return [`name = "${BENCH_TENANT}"`, `cpus = [${cpus.join(", ")}]`, `memory = "${memory}"`, ...topology, `[backend]`, `kind = "cephfs"`, `conf = ${JSON.stringify(conf)}`, `root = ${JSON.stringify(root)}`, ...mounts].join("\n");
}

/** A `[[mounts]]` table: `branches` is `source = "…"`, or `upper = "…"` and `lowers = […]`. */
export function legacyMountToml(path: string, branches: string): string {
  return `[[mounts]]\npath = ${JSON.stringify(path)}\n${branches}\nlegacy = true`;
}

/** A supervisor serving the bench tenant. */
export interface DanausTenant {
  readonly harness: Harness;
  /** Stops the supervisor, detaches any mount it left, removes `removeAfter`. */
  close(): Promise<void>;
}

/**
 * Starts a supervisor for the tenant file `toml` and waits until every path of `mountPoints` is mounted.
 * `before` runs first with the harness (e.g. an image import through its CLI); `removeAfter` are deleted on close.
 */
export async function startDanausTenant(toml: string, mountPoints: readonly string[], removeAfter: readonly string[] = [], before?: (h: Harness) => Promise<void>): Promise<DanausTenant> {
  const h = new Harness({ tenants: { [BENCH_TENANT]: toml } });
  const close = async () => {
    try {
      await h.stop();
    } finally {
      for (const path of mountPoints) if (isMountPoint(path)) Bun.spawnSync(["umount", "-l", path]);
      for (const path of removeAfter) rmSync(path, { recursive: true, force: true });
    }
  };
  try {
    await before?.(h);
    await h.start([BENCH_TENANT]);
    await waitFor("the danaus FUSE mounts", () => mountPoints.every(isMountPoint), 60_000);
    return { harness: h, close };
  } catch (error) {
    await close();
    throw error;
  }
}
