/** @module tenant-checks — the checks across fields that a schema cannot express: sizes against each other, mounts, topology. */
import { basename } from "node:path";
import { configIssue, renderValue, type ConfigIssue } from "./config-error.ts";
import { BLOCK_SIZE_RANGE, REQUIRED_SERVICES } from "./built-in-defaults.ts";
import { mountsCollide } from "./mount-paths.ts";
import type { ServiceName, TenantDefaults } from "./schema.ts";
import { formatSize } from "./size.ts";
import type { TenantConfig } from "./types.ts";

/** Tells where a resolved value came from, as a suffix for `found` (" (from the host's [defaults])"), or "". */
export type OriginNote = (path: string) => string;

/**
 * Checks a resolved tenant: the file's base name equals `name`; cache.size ≤ memory; cache.maxDirty ≤ cache.size;
 * cache.blockSize is a power of two in 4KiB..16MiB; no two mounts are equal or nested; restart.backoffBaseMs ≤
 * restart.backoffCapMs; the topology runs every required service, and fuse-legacy when a mount is legacy.
 * Returns the issues, each against `t.file`; [] when the tenant is consistent.
 */
export function tenantIssues(t: TenantConfig, note: OriginNote = () => ""): ConfigIssue[] {
  const file = t.file;
  const issues: ConfigIssue[] = [];
  const base = basename(file).replace(/\.toml$/, "");
  if (base !== t.name) {
    issues.push(configIssue(file, "name", `the file's base name ${JSON.stringify(base)} (a tenant file is named <name>.toml)`, JSON.stringify(t.name)));
  }
  issues.push(
    ...sizeIssues(file, "", {
      memory: { bytes: t.memoryBytes, note: note("memory") },
      size: { bytes: t.cache.sizeBytes, note: note("cache.size") },
      maxDirty: { bytes: t.cache.maxDirtyBytes, note: note("cache.maxDirty") },
      blockSize: { bytes: t.cache.blockSizeBytes, note: note("cache.blockSize") },
    }),
  );
  t.mounts.forEach((mount, j) => {
    const i = t.mounts.findIndex((other) => mountsCollide(other.path, mount.path));
    if (i < j) {
      const how = t.mounts[i]!.path === mount.path ? "a duplicate of" : "nested with";
      issues.push(
        configIssue(file, `mounts[${j}].path`, `a mount point not equal to or nested with another mount (mounts[${i}].path is ${t.mounts[i]!.path})`, `${JSON.stringify(mount.path)}, ${how} mounts[${i}].path`),
      );
    }
  });
  issues.push(...backoffIssues(file, "", t.restart.backoffBaseMs, t.restart.backoffCapMs, note("restart.backoffBaseMs")));
  issues.push(...topologyIssues(file, "", t.topology, note("topology")));
  const legacy = t.mounts.findIndex((m) => m.legacy);
  if (legacy >= 0 && !t.topology.flat().includes("fuse-legacy")) {
    issues.push(configIssue(file, "topology", `"fuse-legacy" in some process group (mounts[${legacy}] has legacy = true)`, `${renderValue(t.topology)}${note("topology")}`));
  }
  return issues;
}

/**
 * Checks the host's `[defaults]` for what is wrong whatever the tenant: the size relations and back-off order
 * among the fields it sets, the block size, and a topology that leaves out a required service.
 * Paths are prefixed "defaults."; issues are against `file` (the host file).
 */
export function defaultsIssues(defaults: TenantDefaults, file: string): ConfigIssue[] {
  const at = (bytes: number | undefined) => (bytes === undefined ? undefined : { bytes, note: "" });
  return [
    ...sizeIssues(file, "defaults.", {
      memory: at(defaults.memory),
      size: at(defaults.cache?.size),
      maxDirty: at(defaults.cache?.maxDirty),
      blockSize: at(defaults.cache?.blockSize),
    }),
    ...backoffIssues(file, "defaults.", defaults.restart?.backoffBaseMs, defaults.restart?.backoffCapMs, ""),
    ...(defaults.topology ? topologyIssues(file, "defaults.", defaults.topology, "") : []),
  ];
}

type Sized = { bytes: number; note: string } | undefined;

function sizeIssues(file: string, prefix: string, s: { memory: Sized; size: Sized; maxDirty: Sized; blockSize: Sized }): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (s.memory && s.size && s.size.bytes > s.memory.bytes) {
    issues.push(configIssue(file, `${prefix}cache.size`, `at most memory (${showSize(s.memory.bytes)}${s.memory.note})`, `${showSize(s.size.bytes)}${s.size.note}`));
  }
  if (s.size && s.maxDirty && s.maxDirty.bytes > s.size.bytes) {
    issues.push(configIssue(file, `${prefix}cache.maxDirty`, `at most cache.size (${showSize(s.size.bytes)}${s.size.note})`, `${showSize(s.maxDirty.bytes)}${s.maxDirty.note}`));
  }
  if (s.blockSize) {
    const b = s.blockSize.bytes;
    if (b < BLOCK_SIZE_RANGE.min || b > BLOCK_SIZE_RANGE.max || (b & (b - 1)) !== 0) {
      issues.push(configIssue(file, `${prefix}cache.blockSize`, `a power of two between ${formatSize(BLOCK_SIZE_RANGE.min)} and ${formatSize(BLOCK_SIZE_RANGE.max)}`, `${showSize(b)}${s.blockSize.note}`));
    }
  }
  return issues;
}

function backoffIssues(file: string, prefix: string, base: number | undefined, cap: number | undefined, note: string): ConfigIssue[] {
  if (base === undefined || cap === undefined || base <= cap) return [];
  return [configIssue(file, `${prefix}restart.backoffBaseMs`, `at most restart.backoffCapMs (${cap})`, `${base}${note}`)];
}

function topologyIssues(file: string, prefix: string, topology: ServiceName[][], note: string): ConfigIssue[] {
  const running = new Set(topology.flat());
  const missing = REQUIRED_SERVICES.filter((n) => !running.has(n));
  if (missing.length > 0) {
    return [
      configIssue(file, `${prefix}topology`, `every service in some process group (missing ${missing.map((n) => JSON.stringify(n)).join(", ")})`, `${renderValue(topology)}${note}`),
    ];
  }
  const groupOf = (service: ServiceName) => topology.findIndex((group) => group.includes(service));
  // The data path is assembled from the router down to the cache (services/tenant-stack.ts): union requests of a
  // process running both ipc-router and client-cache would leave it for union and come back into it.
  if (groupOf("ipc-router") === groupOf("client-cache") && groupOf("union") !== groupOf("ipc-router")) {
    return [
      configIssue(file, `${prefix}topology`, `"union" in the process group of "ipc-router" and "client-cache" (they share one, so union requests would leave it and come back)`, `${renderValue(topology)}${note}`),
    ];
  }
  return [];
}

/** "64KiB" for whole units, "3000 bytes" otherwise (formatSize would round). */
export function showSize(bytes: number): string {
  return bytes % 1024 === 0 ? formatSize(bytes) : `${bytes} bytes`;
}
