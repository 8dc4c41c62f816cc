/** @module resolve-tenant — applies defaults to a parsed tenant file (tenant field, else host [defaults], else built-in). */
import { dirname, isAbsolute, resolve } from "node:path";
import { ConfigError } from "./config-error.ts";
import { BUILT_IN, defaultMounts, defaultRestartTypes, defaultTopology } from "./built-in-defaults.ts";
import { normalizeBackendPath, normalizeMountPath } from "./mount-paths.ts";
import { SERVICE_NAMES, type MountFile, type TenantDefaults, type TenantFile } from "./schema.ts";
import { tenantIssues } from "./tenant-checks.ts";
import type { BackendConfig, HostConfig, MountConfig, TenantConfig } from "./types.ts";

/**
 * Serving Workers per FUSE mount by default: one per tenant core when fuse-legacy shares the data-path process (a
 * request is then CPU work on the tenant's cores, and a second Worker per core only contends: bench fuse, 16 start-ups
 * 1.37 s against 1.86–1.95 s), two per core when it runs in its own process (each request then waits for the ring's
 * round trip, which a second Worker overlaps: creates 428/s with two against 279/s with one).
 */
export function defaultFuseThreads(cores: number, topology: readonly (readonly string[])[]): number {
  const inProcess = topology.some((group) => group.includes("fuse-legacy") && group.includes("ipc-router"));
  return Math.min(16, Math.max(1, cores) * (inProcess ? 1 : 2));
}

/**
 * Resolves a parsed tenant file into a TenantConfig. Each field comes from the tenant file, else the host's
 * `[defaults]` (cache, fuse and restart merged field by field), else the built-in default: memory 1GiB, cache 50% of
 * memory with 50% of it dirty at most, 64KiB blocks, write-back every 1 s, expiry 5 s, one mount of the whole backend
 * at /mnt/danaus/<name>, client-cache+union+ipc-router in one process and fuse-legacy in another. fuse-legacy is dropped from the topology when no mount is legacy.
 * A relative local backend root is taken from host.stateDir; ceph conf and keyring from the tenant file's directory.
 * Throws ConfigError when the result is inconsistent (see tenantIssues), e.g. cache.size > memory.
 */
export function resolveTenant(parsed: TenantFile, file: string, host: HostConfig, defaults: TenantDefaults): TenantConfig {
  const absFile = resolve(file);
  const memoryBytes = parsed.memory ?? defaults.memory ?? BUILT_IN.memoryBytes;
  const sizeBytes = parsed.cache?.size ?? defaults.cache?.size ?? Math.floor(memoryBytes * BUILT_IN.cacheShareOfMemory);
  const mounts = parsed.mounts ? parsed.mounts.map(resolveMount) : defaultMounts(parsed.name);
  const legacy = mounts.some((m) => m.legacy);
  const topology = (parsed.topology ?? defaults.topology ?? defaultTopology())
    .map((group) => group.filter((service) => legacy || service !== "fuse-legacy"))
    .filter((group) => group.length > 0);
  const restartTypes = defaultRestartTypes();
  for (const service of SERVICE_NAMES) {
    restartTypes[service] = parsed.restart?.services?.[service] ?? defaults.restart?.services?.[service] ?? restartTypes[service];
  }
  const backend = resolveBackend(parsed.backend, absFile, host);
  const tenant: TenantConfig = {
    name: parsed.name,
    file: absFile,
    cpus: [...new Set(parsed.cpus)].sort((a, b) => a - b),
    shareCpus: parsed.shareCpus ?? defaults.shareCpus ?? BUILT_IN.shareCpus,
    user: parsed.uid === undefined ? null : { uid: parsed.uid, gid: parsed.gid ?? parsed.uid },
    memoryBytes,
    backend,
    cache: {
      sizeBytes,
      maxDirtyBytes: parsed.cache?.maxDirty ?? defaults.cache?.maxDirty ?? Math.floor(sizeBytes * BUILT_IN.dirtyShareOfCache),
      blockSizeBytes: parsed.cache?.blockSize ?? defaults.cache?.blockSize ?? BUILT_IN.blockSizeBytes,
      writebackMs: parsed.cache?.writebackMs ?? defaults.cache?.writebackMs ?? BUILT_IN.writebackMs,
      expireMs: parsed.cache?.expireMs ?? defaults.cache?.expireMs ?? BUILT_IN.expireMs,
      writeback: parsed.cache?.writeback ?? defaults.cache?.writeback ?? BUILT_IN.writeback,
    },
    mounts,
    fuse: {
      directIo: parsed.fuse?.directIo ?? defaults.fuse?.directIo ?? BUILT_IN.fuse.directIo,
      attrTimeoutMs: parsed.fuse?.attrTimeoutMs ?? defaults.fuse?.attrTimeoutMs ?? BUILT_IN.fuse.attrTimeoutMs,
      entryTimeoutMs: parsed.fuse?.entryTimeoutMs ?? defaults.fuse?.entryTimeoutMs ?? BUILT_IN.fuse.entryTimeoutMs,
      negativeTimeoutMs: parsed.fuse?.negativeTimeoutMs ?? defaults.fuse?.negativeTimeoutMs ?? BUILT_IN.fuse.negativeTimeoutMs,
      threads: parsed.fuse?.threads ?? defaults.fuse?.threads ?? defaultFuseThreads(new Set(parsed.cpus).size, topology),
      maxNodes: parsed.fuse?.maxNodes ?? defaults.fuse?.maxNodes ?? BUILT_IN.fuse.maxNodes,
    },
    maxDirStreams: parsed.maxDirStreams ?? defaults.maxDirStreams ?? BUILT_IN.maxDirStreams,
    heldRequestMs: parsed.heldRequestMs ?? defaults.heldRequestMs ?? BUILT_IN.heldRequestMs,
    topology,
    restart: {
      strategy: parsed.restart?.strategy ?? defaults.restart?.strategy ?? BUILT_IN.restart.strategy,
      intensity: parsed.restart?.intensity ?? defaults.restart?.intensity ?? BUILT_IN.restart.intensity,
      periodMs: parsed.restart?.periodMs ?? defaults.restart?.periodMs ?? BUILT_IN.restart.periodMs,
      backoffBaseMs: parsed.restart?.backoffBaseMs ?? defaults.restart?.backoffBaseMs ?? BUILT_IN.restart.backoffBaseMs,
      backoffCapMs: parsed.restart?.backoffCapMs ?? defaults.restart?.backoffCapMs ?? BUILT_IN.restart.backoffCapMs,
      shutdownMs:
        parsed.restart?.shutdownMs ?? defaults.restart?.shutdownMs ?? (backend.kind === "cephfs" ? BUILT_IN.cephfsShutdownMs : BUILT_IN.restart.shutdownMs),
      services: restartTypes,
    },
  };
  const issues = tenantIssues(tenant, (path) => originNote(path, parsed, defaults, host.file));
  if (issues.length > 0) throw new ConfigError(issues);
  return tenant;
}

function resolveMount(m: MountFile): MountConfig {
  const path = normalizeMountPath(m.path);
  if (m.source !== undefined) return { path, kind: "direct", source: normalizeBackendPath(m.source), legacy: m.legacy };
  return { path, kind: "union", upper: normalizeBackendPath(m.upper ?? ""), lowers: (m.lowers ?? []).map(normalizeBackendPath), legacy: m.legacy, ...(m.renameDir !== undefined ? { renameDir: m.renameDir } : {}) };
}

function resolveBackend(b: TenantFile["backend"], file: string, host: HostConfig): BackendConfig {
  if (b.kind === "local") return { kind: "local", root: resolve(host.stateDir, b.root) };
  const near = (p: string) => (isAbsolute(p) ? resolve(p) : resolve(dirname(file), p));
  const ceph: BackendConfig = { kind: "cephfs", conf: near(b.conf), fs: b.fs, root: normalizeMountPath(b.root), clientId: b.clientId };
  if (b.keyring !== undefined) ceph.keyring = near(b.keyring);
  if (b.options !== undefined) ceph.options = Object.fromEntries(Object.entries(b.options).map(([k, v]) => [k, String(v)]));
  return ceph;
}

/** " (from the host's [defaults] in host.toml)" when the tenant file does not set the field but the host does. */
function originNote(path: string, parsed: TenantFile, defaults: TenantDefaults, hostFile: string): string {
  const get = (root: unknown) => path.split(".").reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], root);
  if (get(parsed) !== undefined) return "";
  if (get(defaults) !== undefined) return ` (from [defaults] in ${hostFile})`;
  return " (built-in default)";
}
