/** @module load-tenants — loads every tenant file of the host and admits those that fit together. */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, configIssue, type ConfigIssue } from "./config-error.ts";
import { crossCheck } from "./cross-check.ts";
import type { HostFacts } from "./host-facts.ts";
import { tenantFromToml } from "./load-tenant.ts";
import { readToml } from "./read-toml.ts";
import type { TenantDefaults } from "./schema.ts";
import type { HostConfig, TenantConfig } from "./types.ts";

/** A tenant file that will not run, with why; `name` when the file got as far as naming its tenant. */
export interface RejectedTenant {
  file: string;
  name?: string;
  issues: ConfigIssue[];
}

/** The tenants of a host: those to run (in name order) and those refused (in file order). */
export interface LoadTenantsResult {
  accepted: TenantConfig[];
  rejected: RejectedTenant[];
}

/**
 * Loads every `*.toml` in host.tenantsDir (in file name order) and cross-checks them against each other and the
 * host (see crossCheck). A file that fails to load is rejected on its own; the others still load. Never throws
 * for a config problem: a missing or unreadable tenantsDir is one rejection, against the host file.
 */
export function loadTenants(host: HostConfig, defaults: TenantDefaults, facts: HostFacts): LoadTenantsResult {
  let names: string[];
  try {
    names = readdirSync(host.tenantsDir, { withFileTypes: true })
      .filter((entry) => entry.name.endsWith(".toml") && !entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why = code === "ENOENT" ? "which does not exist" : code === "ENOTDIR" ? "which is not a directory" : `which cannot be read (${String(code ?? error)})`;
    const issue = configIssue(host.file, "tenantsDir", "an existing directory of tenant files (*.toml)", `${JSON.stringify(host.tenantsDir)}, ${why}`);
    return { accepted: [], rejected: [{ file: host.file, issues: [issue] }] };
  }
  const loaded: TenantConfig[] = [];
  const rejected: RejectedTenant[] = [];
  for (const entry of names) {
    const file = join(host.tenantsDir, entry);
    let name: string | undefined;
    try {
      const table = readToml(file);
      if (typeof table.name === "string") name = table.name;
      loaded.push(tenantFromToml(table, file, host, defaults));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      rejected.push(name === undefined ? { file, issues: error.issues } : { file, name, issues: error.issues });
    }
  }
  const checked = crossCheck(loaded, facts);
  for (const { tenant, issues } of checked.rejected) rejected.push({ file: tenant.file, name: tenant.name, issues });
  rejected.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { accepted: checked.accepted, rejected };
}
