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

/** The tenant files of a host, each read and checked on its own (nothing across tenants yet). */
export interface TenantFiles {
  /** Every `*.toml` in tenantsDir (absolute, in name order); null when tenantsDir cannot be listed. */
  files: string[] | null;
  /** The valid files, resolved (in file name order). */
  loaded: TenantConfig[];
  /** The invalid files, with their issues (in file order); a tenantsDir that cannot be listed is one entry against the host file. */
  rejected: RejectedTenant[];
}

/**
 * Reads every `*.toml` in host.tenantsDir (in file name order) and validates and resolves each on its own. A file
 * that fails to load is rejected with its issues; the others still load. Never throws for a config problem: a
 * missing or unreadable tenantsDir gives `files: null` and one rejection, against the host file.
 */
export function readTenantFiles(host: HostConfig, defaults: TenantDefaults): TenantFiles {
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
    return { files: null, loaded: [], rejected: [{ file: host.file, issues: [issue] }] };
  }
  const files = names.map((entry) => join(host.tenantsDir, entry));
  const loaded: TenantConfig[] = [];
  const rejected: RejectedTenant[] = [];
  for (const file of files) {
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
  return { files, loaded, rejected };
}

/**
 * Loads every tenant file of the host (see readTenantFiles) and cross-checks them against each other and the host,
 * as at a fresh start: no tenant runs yet, so they are admitted in name order (see crossCheck).
 * Never throws for a config problem.
 */
export function loadTenants(host: HostConfig, defaults: TenantDefaults, facts: HostFacts): LoadTenantsResult {
  const { loaded, rejected } = readTenantFiles(host, defaults);
  return admitTenants(loaded, rejected, facts);
}

/**
 * Cross-checks `candidates` (valid tenant files) against the host and `incumbents` (see crossCheck) and merges the
 * refused ones into `invalid` (files rejected on their own). Returns the accepted tenants (name order) and every
 * rejection (file order).
 */
export function admitTenants(candidates: TenantConfig[], invalid: RejectedTenant[], facts: HostFacts, incumbents: TenantConfig[] = []): LoadTenantsResult {
  const checked = crossCheck(candidates, facts, incumbents);
  const rejected = [...invalid, ...checked.rejected.map(({ tenant, issues }) => ({ file: tenant.file, name: tenant.name, issues }))];
  rejected.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { accepted: checked.accepted, rejected };
}
