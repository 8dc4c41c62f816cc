/** @module cross-check — admits tenants one by one against the host's cores and memory and the tenants already admitted (running tenants first). */
import { basename, dirname } from "node:path";
import { formatCpuList } from "../sys/cpu-list.ts";
import { configIssue, type ConfigIssue } from "./config-error.ts";
import type { HostFacts } from "./host-facts.ts";
import { mountsCollide } from "./mount-paths.ts";
import { showSize } from "./tenant-checks.ts";
import type { TenantConfig } from "./types.ts";

/** The outcome of crossCheck: tenants to run, and tenants refused with why. */
export interface CrossCheckResult {
  accepted: TenantConfig[];
  rejected: { tenant: TenantConfig; issues: ConfigIssue[] }[];
}

/**
 * Decides which tenants can run together on this host. `incumbents` are tenants already admitted (running, or
 * stopped but still defined): they keep their cores, memory, backend root, mount points and uid against anything in
 * `tenants`, whatever the names' order. A tenant of `tenants` that bears an incumbent's name is its new version: these
 * are checked first, in name order, against the host and every other tenant's claim, and take over the incumbent's
 * claim when accepted (so each later one is checked against what will run). Then the newcomers, in name order (then
 * file), each against every claim so far. The result does not depend on the input order.
 * A tenant is rejected when it uses a core the host does not have; wants more memory than the host has, or more
 * than is left after the other claims; shares a core with another claim (allowed only when both set
 * shareCpus = true); has a mount point equal to, inside, or above another's; has its backend root equal to, inside
 * or above another's on the same store (both local, or the same ceph.conf and fs: two conf files naming one cluster
 * are not recognised); runs as another's uid; or reuses a tenant name.
 * Each issue is against the rejected tenant's file and names the other tenant and its file; an incumbent is never
 * rejected, and `accepted` lists only tenants of `tenants`.
 */
export function crossCheck(tenants: TenantConfig[], facts: HostFacts, incumbents: TenantConfig[] = []): CrossCheckResult {
  const claims = new Map(incumbents.map((t) => [t.name, t]));
  const ordered = [...tenants].sort(byNameThenFile);
  const result: CrossCheckResult = { accepted: [], rejected: [] };
  const admit = (t: TenantConfig, replacing: boolean): void => {
    const others = [...claims.values()].filter((other) => !(replacing && other.name === t.name));
    const issues = admissionIssues(t, others, facts);
    if (issues.length > 0) {
      result.rejected.push({ tenant: t, issues });
      return;
    }
    result.accepted.push(t);
    claims.set(t.name, t);
  };
  const isNewVersion = (t: TenantConfig) => incumbents.some((i) => i.name === t.name);
  for (const t of ordered) if (isNewVersion(t)) admit(t, true);
  for (const t of ordered) if (!isNewVersion(t)) admit(t, false);
  result.accepted.sort(byNameThenFile);
  return result;
}

/**
 * What keeps tenant `t` from running beside `others` (the tenants that hold their resources) on a host with `facts`:
 * the issues crossCheck would report against `t`'s file; [] when it fits.
 */
export function admissionIssues(t: TenantConfig, others: TenantConfig[], facts: HostFacts): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const hostCpus = new Set(facts.cpus);
  const foreign = t.cpus.filter((c) => !hostCpus.has(c));
  if (foreign.length > 0) {
    issues.push(configIssue(t.file, "cpus", `cores this host has (${formatCpuList([...hostCpus]) || "none"})`, foreign.join(", ")));
  }
  const claims = [...others].sort(byNameThenFile);
  const memoryUsed = claims.reduce((sum, other) => sum + other.memoryBytes, 0);
  if (t.memoryBytes > facts.memoryBytes) {
    issues.push(configIssue(t.file, "memory", `at most the host's memory (${showSize(facts.memoryBytes)})`, showSize(t.memoryBytes)));
  } else if (memoryUsed + t.memoryBytes > facts.memoryBytes) {
    const left = facts.memoryBytes - memoryUsed;
    const users = claims.map((a) => a.name).join(", ");
    issues.push(configIssue(t.file, "memory", `at most the ${showSize(left)} of the host's ${showSize(facts.memoryBytes)} left by tenants ${users}`, showSize(t.memoryBytes)));
  }
  for (const other of claims) {
    const where = `tenant ${other.name} (${displayFile(other.file, t.file)})`;
    if (other.name === t.name) {
      issues.push(configIssue(t.file, "name", `a name no other tenant uses (already used by ${where})`, JSON.stringify(t.name)));
    }
    if (t.user !== null && other.user !== null && t.user.uid === other.user.uid) {
      issues.push(configIssue(t.file, "uid", `a user id no other tenant runs as (${where} runs as ${other.user.uid})`, String(t.user.uid)));
    }
    const shared = t.cpus.filter((c) => other.cpus.includes(c));
    if (shared.length > 0 && !(t.shareCpus && other.shareCpus)) {
      issues.push(configIssue(t.file, "cpus", `cores not used by ${where}`, shared.join(", ")));
    }
    if (sameStore(t, other) && mountsCollide(t.backend.root, other.backend.root)) {
      const store = t.backend.kind === "local" ? "host directory" : `CephFS ${t.backend.fs} of ${t.backend.conf}`;
      issues.push(configIssue(t.file, "backend.root", `a backend root not equal to or nested with ${other.backend.root} (${store}) of ${where}`, JSON.stringify(t.backend.root)));
    }
    t.mounts.forEach((mount, j) => {
      for (const theirs of other.mounts) {
        if (!mountsCollide(mount.path, theirs.path)) continue;
        issues.push(configIssue(t.file, `mounts[${j}].path`, `a mount point not equal to or nested with ${theirs.path} of ${where}`, JSON.stringify(mount.path)));
      }
    });
  }
  return issues;
}

function byNameThenFile(a: TenantConfig, b: TenantConfig): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
}

/** True when both tenants keep their files in the same store (both local, or the same conf file and CephFS). */
function sameStore(a: TenantConfig, b: TenantConfig): boolean {
  if (a.backend.kind === "local" || b.backend.kind === "local") return a.backend.kind === b.backend.kind;
  return a.backend.conf === b.backend.conf && a.backend.fs === b.backend.fs;
}

/** The other tenant's file as the reader of `from` would name it: its base name when both sit in one directory. */
function displayFile(file: string, from: string): string {
  return dirname(file) === dirname(from) ? basename(file) : file;
}

