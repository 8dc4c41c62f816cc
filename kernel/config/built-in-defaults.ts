/** @module built-in-defaults — the values a tenant gets when neither its file nor the host's [defaults] set them. */
import { SERVICE_NAMES, type ServiceName } from "./schema.ts";
import type { MountConfig, RestartConfig, TenantConfig } from "./types.ts";

/** Built-in tenant defaults: the paper's cache settings (§3.3–3.4) and OTP-like restart settings. */
export const BUILT_IN = {
  memoryBytes: 1024 ** 3,
  shareCpus: false,
  /** cache.size is this share of the tenant's memory. */
  cacheShareOfMemory: 0.5,
  /** cache.maxDirty is this share of cache.size. */
  dirtyShareOfCache: 0.5,
  blockSizeBytes: 64 * 1024,
  writebackMs: 1000,
  expireMs: 5000,
  writeback: "async",
  /** `fuse.threads` defaults to one serving Worker per tenant core (see resolve-tenant). */
  fuse: { directIo: true, attrTimeoutMs: 1000, entryTimeoutMs: 1000, negativeTimeoutMs: 1000, maxNodes: 131072 },
  /** Directory streams one client may hold open at once (as a process's default RLIMIT_NOFILE). */
  maxDirStreams: 1024,
  /** A request in service this long counts as held (see the router's watchdog). */
  heldRequestMs: 1000,
  restart: {
    strategy: "one_for_one",
    intensity: 5,
    periodMs: 30_000,
    backoffBaseMs: 100,
    backoffCapMs: 5000,
    shutdownMs: 3000,
  },
  /**
   * The default `shutdownMs` of a tenant on the `cephfs` backend: its service unmounts two libcephfs clients (the
   * renamer, see the cephfs backend), and an unmount can wait about 5 s for the MDS; killed before it ends, the
   * service leaves sessions holding capabilities until its restart or the MDS reclaims them.
   */
  cephfsShutdownMs: 10_000,
  /** Default mount points live under this directory, one per tenant. */
  mountRoot: "/mnt/danaus",
} as const satisfies {
  fuse: Omit<TenantConfig["fuse"], "threads">;
  restart: Omit<RestartConfig, "services">;
  [key: string]: unknown;
};

/** Block sizes a cache may use: powers of two in this range. */
export const BLOCK_SIZE_RANGE = { min: 4 * 1024, max: 16 * 1024 ** 2 } as const;

/** The services every tenant must run somewhere (fuse-legacy only runs when a mount has legacy = true). */
export const REQUIRED_SERVICES: readonly ServiceName[] = SERVICE_NAMES.filter((n) => n !== "fuse-legacy");

/**
 * The default topology (paper §3.1, principle 2): client-cache, union and ipc-router in one process, so the data path
 * crosses exactly one process boundary (app → tenant service) and the libservices call each other directly;
 * fuse-legacy in its own process, so a crash of the kernel path never takes the user-level path with it.
 * A tenant may split the services into more processes for stronger fault isolation of their control plane.
 */
export function defaultTopology(): ServiceName[][] {
  return [["client-cache", "union", "ipc-router"], ["fuse-legacy"]];
}

/** The default mounts of a tenant: its whole backend at /mnt/danaus/<name>, on the user-level path only. */
export function defaultMounts(name: string): MountConfig[] {
  return [{ path: `${BUILT_IN.mountRoot}/${name}`, kind: "direct", source: "", legacy: false }];
}

/** The default restart type of each service: permanent (always restarted). */
export function defaultRestartTypes(): RestartConfig["services"] {
  return Object.fromEntries(SERVICE_NAMES.map((n) => [n, "permanent"])) as RestartConfig["services"];
}
