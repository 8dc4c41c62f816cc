/**
 * @module two-tenants — the fault-under-load setup shared by the fault matrix and `bench soak`: a supervisor with
 * alpha (core 0, default topology) and its neighbour beta (the last core), each with one mount served on both paths.
 */
import { isMountPoint } from "../../../kernel/sys/mounts.ts";
import { Harness, LAST_CPU, waitFor } from "../harness.ts";
import { legacyTenantToml, type LegacyTenant } from "./legacy-tenant.ts";
import type { LoopOptions } from "./loop-report.ts";

/** Restarts never exhaust the intensity here: every fault is followed by a restart, many times a minute. */
const RESTART = "intensity = 1000\nperiodMs = 60000\nbackoffBaseMs = 50\nbackoffCapMs = 400\nshutdownMs = 1500";

/** A supervisor (not started) with alpha's and beta's mounts under `base`; `beta` overrides beta's file (e.g. its topology). */
export function twoTenants(base: string, alpha: Partial<LegacyTenant>, beta: Partial<LegacyTenant>): { h: Harness; alphaMount: string; betaMount: string } {
  const alphaMount = `${base}/alpha`;
  const betaMount = `${base}/beta`;
  const h = new Harness({
    // The product's defaults: a busy two-core machine must not make the watchdog kill alpha for a late heartbeat.
    heartbeatMs: 250,
    hungAfterMs: 2000,
    restart: RESTART,
    tenants: {
      alpha: legacyTenantToml({ name: "alpha", cpu: 0, mount: alphaMount, memory: "384MiB", cacheSize: "32MiB", ...alpha }),
      beta: legacyTenantToml({ name: "beta", cpu: LAST_CPU, mount: betaMount, memory: "384MiB", cacheSize: "32MiB", writeback: "sync", ...beta }),
    },
  });
  return { h, alphaMount, betaMount };
}

/** Options of a verifying loop of `tenant` on `path` in `dir` (two files of `fileBytes`). */
export function loopOptions(h: Harness, tenant: string, path: "client" | "kernel", dir: string, opsPerSecond: number, fileBytes: number, reportMs: number): LoopOptions {
  return { path, socket: `${h.dir}/state/run/${tenant}/router.sock`, dir, name: `${path}-loop`, files: 2, fileBytes, opsPerSecond, reportMs };
}

/** Stops and starts `tenant` again, detaching a dead FUSE mount the stop left at `mount`; waits for the new mount. */
export async function startTenantAgain(h: Harness, tenant: string, mount: string): Promise<void> {
  await h.ctl({ cmd: "stop-tenant", tenant });
  if (isMountPoint(mount)) Bun.spawnSync(["umount", "-l", mount]);
  await h.ok({ cmd: "start-tenant", tenant });
  await waitFor(`${tenant}'s FUSE mount`, () => isMountPoint(mount), 30_000);
}

/**
 * Starts the supervisor and waits up to `limitMs` for every tenant to run (Harness.start gives up after 15 s, which a
 * two-core machine busy with other tests can take just to start ten Bun processes).
 */
export async function startPatiently(h: Harness, tenants: string[], limitMs = 90_000): Promise<void> {
  try {
    await h.start(tenants);
  } catch {
    await waitFor("tenants running", async () => {
      const status = await h.status();
      return tenants.every((name) => status.find((t) => t.name === name)?.state === "running");
    }, limitMs);
  }
}
