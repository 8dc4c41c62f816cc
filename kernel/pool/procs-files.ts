/** @module pool/procs-files — where a process joins a running tenant's pool: the cgroup.procs file of each of its groups. */
import { join } from "node:path";
import type { PoolSupport } from "./types.ts";

/**
 * The cgroup.procs files a process writes its pid into to join the pool of `tenant` made by supervisor instance
 * `instance` (cpuset first, then memory, on cgroup v1; the one group on v2); empty when pools are unavailable.
 * The groups exist only while the supervisor runs the tenant.
 */
export function poolProcsFiles(support: PoolSupport, instance: string, tenant: string): string[] {
  switch (support.kind) {
    case "cgroup-v1":
      return [support.cpusetRoot, support.memoryRoot].map((root) => join(root, `danaus.${instance}`, tenant, "cgroup.procs"));
    case "cgroup-v2":
      return [join(support.root, `danaus.${instance}`, tenant, "cgroup.procs")];
    case "unavailable":
      return [];
  }
}
