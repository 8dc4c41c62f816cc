/** @module pool/flavour — the narrow interface behind which cgroup v1 and v2 differ for pools. */
import type { PoolSpec } from "./types.ts";

/** Where one supervisor instance's groups live in one cgroup flavour, and which files configure and report on them. */
export interface CgroupFlavour {
  /** The `danaus.<instance>` directory in each hierarchy, in the order processes join them. */
  readonly instanceDirs: readonly string[];
  /** Make the `danaus.<instance>` directories (if missing) ready to hold configured tenant groups. Throws PoolError. */
  prepareInstance(tenant: string): void;
  /** Apply the spec's cpus and memory to freshly made tenant groups (one per `instanceDirs` entry). Throws PoolError. */
  configureTenant(spec: PoolSpec, tenantDirs: readonly string[]): void;
  /** OOM kills so far in the tenant's groups, or null when unreadable. */
  oomKills(tenantDirs: readonly string[]): number | null;
  /** Current memory use of the tenant's groups in bytes, or null when unreadable. */
  memoryUsage(tenantDirs: readonly string[]): number | null;
}
