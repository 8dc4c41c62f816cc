/** @module reload-plan — what a reload does, decided from the tenants the supervisor holds and the tenant files (no processes). */
import { admitTenants, tenantFingerprint, type HostFacts, type RejectedTenant, type TenantConfig, type TenantFiles } from "../config/index.ts";

/** The steps of a reload, to be carried out in this order: stop, restart, start. */
export interface ReloadPlan {
  /** Held tenants whose file is gone, to stop (name order). */
  stop: string[];
  /** New versions of held tenants, to restart with, in name order: each fits beside what runs at its turn. */
  restart: TenantConfig[];
  /** New tenants to start, in name order, once the stops and restarts are done. */
  start: TenantConfig[];
  /** Held tenants whose file did not change. */
  unchanged: string[];
  /** Held tenants whose file was refused (invalid, or in conflict): they keep the version they hold. */
  kept: string[];
  /** Every refused file and why (file order); a new tenant in conflict with a held one is refused here, never the held one. */
  rejected: RejectedTenant[];
}

/**
 * Decides a reload. `held` are the tenants the supervisor holds (running, failed or stopped, at the version they
 * run); they keep their cores, memory, backend root, mount points and uid against every newcomer whatever the
 * names' order (see crossCheck). A held tenant is matched to its file by path (a file is named after its tenant):
 * when the file is gone the tenant stops; when it is invalid for any reason (syntax, a changed name, a failed check
 * alone or across tenants) the tenant keeps its version; when it changed and fits, the tenant restarts with it.
 * When tenantsDir cannot be listed (`files.files` null), nothing stops.
 */
export function planReload(held: TenantConfig[], files: TenantFiles, facts: HostFacts): ReloadPlan {
  const present = files.files === null ? null : new Set(files.files);
  const gone = (t: TenantConfig) => present !== null && !present.has(t.file);
  const staying = held.filter((t) => !gone(t));
  const current = new Map(staying.map((t) => [t.name, t]));
  const isUnchanged = (t: TenantConfig) => {
    const old = current.get(t.name);
    return old !== undefined && old.file === t.file && tenantFingerprint(old) === tenantFingerprint(t);
  };
  const { accepted, rejected } = admitTenants(files.loaded.filter((t) => !isUnchanged(t)), files.rejected, facts, staying);
  const refusedFiles = new Set(rejected.map((r) => r.file));
  return {
    stop: held.filter(gone).map((t) => t.name).sort(),
    restart: accepted.filter((t) => current.has(t.name)),
    start: accepted.filter((t) => !current.has(t.name)),
    unchanged: files.loaded.filter(isUnchanged).map((t) => t.name),
    kept: staying.filter((t) => refusedFiles.has(t.file)).map((t) => t.name).sort(),
    rejected,
  };
}
