/** @module mount-table — the tenant's mount table: which mounts the router serves, and the backend spec of each. */
import type { TenantConfig } from "../../kernel/config/index.ts";
import type { MountBranches } from "../client-cache/index.ts";
import type { MountEntry } from "./registration.ts";

/** A mount the router serves: its id (the index clients put in args[0]), its mount point and its branches. */
export interface ServedMount extends MountEntry {
  /** The backend directory it serves, or its union branches (paths inside the tenant's backend root). */
  readonly branches: MountBranches;
}

/** A mount the router does not serve yet, and why. */
export interface SkippedMount {
  readonly path: string;
  readonly reason: string;
}

/**
 * The mounts of `tenant` the data path serves, in config order, and those it skips: a union mount whose lower
 * branches are not directories on the backend (`missing` tells which of a list of backend paths are not).
 */
export function buildMountTable(tenant: TenantConfig, missing: (paths: readonly string[]) => string[] = () => []): { served: ServedMount[]; skipped: SkippedMount[] } {
  const served: ServedMount[] = [];
  const skipped: SkippedMount[] = [];
  for (const mount of tenant.mounts) {
    if (mount.kind === "union") {
      const absent = missing(mount.lowers);
      if (absent.length > 0) {
        skipped.push({ path: mount.path, reason: `lower branches missing on the backend: ${absent.join(", ")} (import the image first)` });
        continue;
      }
      served.push({ path: mount.path, id: served.length, kind: mount.kind, legacy: mount.legacy, branches: { kind: "union", upper: mount.upper, lowers: mount.lowers, ...(mount.renameDir !== undefined ? { renameDir: mount.renameDir } : {}) } });
      continue;
    }
    served.push({ path: mount.path, id: served.length, kind: mount.kind, legacy: mount.legacy, branches: { kind: "direct", source: mount.source } });
  }
  return { served, skipped };
}
