/** @module mount-table — the tenant's mount table: which mounts the router serves, and the backend spec of each. */
import type { TenantConfig } from "../../kernel/config/index.ts";
import type { MountEntry } from "./registration.ts";

/** A mount the router serves: its id (the index clients put in args[0]), its mount point and its backend path. */
export interface ServedMount extends MountEntry {
  /** The directory inside the tenant's backend root this mount serves ("" for the root). */
  readonly source: string;
}

/** A mount the router does not serve yet, and why. */
export interface SkippedMount {
  readonly path: string;
  readonly reason: string;
}

/**
 * The mounts of `tenant` the data path serves, in config order, and those it skips. Union mounts wait for the union
 * service (issue 5).
 */
export function buildMountTable(tenant: TenantConfig): { served: ServedMount[]; skipped: SkippedMount[] } {
  const served: ServedMount[] = [];
  const skipped: SkippedMount[] = [];
  for (const mount of tenant.mounts) {
    if (mount.kind === "union") {
      skipped.push({ path: mount.path, reason: "union mounts are served once the union service exists (issue 5)" });
      continue;
    }
    served.push({ path: mount.path, id: served.length, kind: mount.kind, source: mount.source });
  }
  return { served, skipped };
}
