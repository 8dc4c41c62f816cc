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
  fuse: { directIo: true, attrTimeoutMs: 1000, entryTimeoutMs: 1000 },
  restart: {
    strategy: "one_for_one",
    intensity: 5,
    periodMs: 30_000,
    backoffBaseMs: 100,
    backoffCapMs: 5000,
    shutdownMs: 3000,
  },
  /** Default mount points live under this directory, one per tenant. */
  mountRoot: "/mnt/danaus",
} as const satisfies {
  fuse: TenantConfig["fuse"];
  restart: Omit<RestartConfig, "services">;
  [key: string]: unknown;
};

/** Block sizes a cache may use: powers of two in this range. */
export const BLOCK_SIZE_RANGE = { min: 4 * 1024, max: 16 * 1024 ** 2 } as const;

/** The services every tenant must run somewhere (fuse-legacy only runs when a mount has legacy = true). */
export const REQUIRED_SERVICES: readonly ServiceName[] = SERVICE_NAMES.filter((n) => n !== "fuse-legacy");

/**
 * The default topology: one process per service, in SERVICE_NAMES (start) order.
 * Until the data path exists, each service is its own process, which isolates faults best and lets each be
 * started, killed and restarted alone. Later the default becomes ipc-router + union + client-cache in one process
 * (the paper's function-call integration, one process boundary on the data path), with fuse-legacy separate.
 */
export function defaultTopology(): ServiceName[][] {
  return SERVICE_NAMES.map((name) => [name]);
}

/** The default mounts of a tenant: its whole backend at /mnt/danaus/<name>, on the user-level path only. */
export function defaultMounts(name: string): MountConfig[] {
  return [{ path: `${BUILT_IN.mountRoot}/${name}`, kind: "direct", source: "", legacy: false }];
}

/** The default restart type of each service: permanent (always restarted). */
export function defaultRestartTypes(): RestartConfig["services"] {
  return Object.fromEntries(SERVICE_NAMES.map((n) => [n, "permanent"])) as RestartConfig["services"];
}
