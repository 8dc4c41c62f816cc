/** @module cross-check — admits tenants one by one against the host's cores and memory and the tenants already admitted. */
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
 * Decides which tenants can run together on this host. Tenants are taken in name order (then file), each checked
 * against the host and the tenants accepted before it, so the result does not depend on the input order.
 * A tenant is rejected when it uses a core the host does not have; wants more memory than the host has, or more
 * than is left after the accepted tenants; shares a core with an accepted tenant (allowed only when both set
 * shareCpus = true); has a mount point equal to, inside, or above an accepted tenant's; has its backend root equal
 * to, inside or above an accepted tenant's on the same store (both local, or the same ceph.conf and fs: two conf files
 * naming one cluster are not recognised); or reuses a tenant name.
 * Each issue is against the rejected tenant's file and names the other tenant and its file.
 */
export function crossCheck(tenants: TenantConfig[], facts: HostFacts): CrossCheckResult {
  const ordered = [...tenants].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const result: CrossCheckResult = { accepted: [], rejected: [] };
  const hostCpus = new Set(facts.cpus);
  let memoryUsed = 0;
  for (const t of ordered) {
    const issues: ConfigIssue[] = [];
    const foreign = t.cpus.filter((c) => !hostCpus.has(c));
    if (foreign.length > 0) {
      issues.push(configIssue(t.file, "cpus", `cores this host has (${formatCpuList([...hostCpus]) || "none"})`, foreign.join(", ")));
    }
    if (t.memoryBytes > facts.memoryBytes) {
      issues.push(configIssue(t.file, "memory", `at most the host's memory (${showSize(facts.memoryBytes)})`, showSize(t.memoryBytes)));
    } else if (memoryUsed + t.memoryBytes > facts.memoryBytes) {
      const left = facts.memoryBytes - memoryUsed;
      const users = result.accepted.map((a) => a.name).join(", ");
      issues.push(
        configIssue(t.file, "memory", `at most the ${showSize(left)} of the host's ${showSize(facts.memoryBytes)} left by tenants ${users}`, showSize(t.memoryBytes)),
      );
    }
    for (const other of result.accepted) {
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
    if (issues.length > 0) {
      result.rejected.push({ tenant: t, issues });
    } else {
      result.accepted.push(t);
      memoryUsed += t.memoryBytes;
    }
  }
  return result;
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

