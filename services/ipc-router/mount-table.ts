/** @module mount-table — the tenant's mount table: which mounts the router serves, and the backend spec of each. */
import type { TenantConfig } from "../../kernel/config/index.ts";
import { backendSpecFor, type BackendSpec } from "../client-cache/index.ts";
import type { MountEntry } from "./registration.ts";

/** A mount the router serves: its id (the index clients put in args[0]), its mount point and how to open it. */
export interface ServedMount extends MountEntry {
  readonly backend: BackendSpec;
}

/** A mount the router does not serve yet, and why. */
export interface SkippedMount {
  readonly path: string;
  readonly reason: string;
}

/**
 * The mounts of `tenant` the data path serves, in config order, and those it skips. Union mounts wait for the union
 * service (issue 5); a backend that cannot be opened yet (cephfs before issue 4) is skipped with its reason.
 */
export function buildMountTable(tenant: TenantConfig): { served: ServedMount[]; skipped: SkippedMount[] } {
  const served: ServedMount[] = [];
  const skipped: SkippedMount[] = [];
  for (const mount of tenant.mounts) {
    if (mount.kind === "union") {
      skipped.push({ path: mount.path, reason: "union mounts are served once the union service exists (issue 5)" });
      continue;
    }
    const backend = backendSpecFor(tenant, mount.source);
    if ("unsupported" in backend) {
      skipped.push({ path: mount.path, reason: backend.unsupported });
      continue;
    }
    served.push({ path: mount.path, id: served.length, kind: mount.kind, backend });
  }
  return { served, skipped };
}
