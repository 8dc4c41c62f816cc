/** @module paths — where a tenant's runtime files live, and how they are removed when it stops. */
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import type { HostConfig } from "../config/index.ts";

/** A tenant's runtime files. */
export interface TenantPaths {
  readonly instance: string;
  /** Prefix of every shared-memory file of the tenant (heartbeats, the request region). */
  readonly shmPrefix: string;
  readonly heartbeatFile: string;
  /** Private directory (0700) for the tenant's sockets. */
  readonly runDir: string;
}

const SHM_DIR = "/dev/shm";

/** The runtime paths of `tenant` under `host`. */
export function tenantPaths(host: HostConfig, tenant: string): TenantPaths {
  const shmPrefix = join(SHM_DIR, `danaus.${host.instance}.${tenant}.`);
  return { instance: host.instance, shmPrefix, heartbeatFile: `${shmPrefix}hb`, runDir: join(host.stateDir, "run", tenant) };
}

/** Removes what a previous run may have left (a killed supervisor or service), then creates the run directory. */
export function prepareTenantRuntime(paths: TenantPaths): void {
  removeTenantRuntime(paths);
  // The parent is traversable (0711) so a tenant running as its own user reaches its own 0700 directory.
  mkdirSync(dirname(paths.runDir), { recursive: true, mode: 0o711 });
  mkdirSync(paths.runDir, { mode: 0o700 });
}

/** Removes the tenant's shared-memory files and run directory. */
export function removeTenantRuntime(paths: TenantPaths): void {
  const prefix = paths.shmPrefix.slice(SHM_DIR.length + 1);
  for (const name of readdirSync(SHM_DIR)) if (name.startsWith(prefix)) rmSync(join(SHM_DIR, name), { force: true });
  rmSync(paths.runDir, { recursive: true, force: true });
}
