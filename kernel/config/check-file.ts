/** @module check-file — `danaus check <file>`: validates a host config or a tenant file and lists what is wrong. */
import { dirname, resolve } from "node:path";
import { ConfigError, type ConfigIssue } from "./config-error.ts";
import { hostFacts, type HostFacts } from "./host-facts.ts";
import { loadHost } from "./load-host.ts";
import { tenantFromToml } from "./load-tenant.ts";
import { admissionIssues, crossCheck } from "./cross-check.ts";
import { loadTenants, readTenantFiles } from "./load-tenants.ts";
import { readToml } from "./read-toml.ts";
import type { HostConfig } from "./types.ts";

/** Options of checkFile. */
export interface CheckFileOptions {
  /**
   * A host config whose `[defaults]` and stateDir apply when checking a tenant file, and whose other tenants it is
   * checked against (else the built-in defaults, and no other tenants).
   */
  host?: string;
  /** The host's cores and memory for a host file's tenants, or a tenant file checked with `host` (default: this machine's, from hostFacts()). */
  facts?: HostFacts;
}

/**
 * Checks one config file and returns everything wrong with it ([] when it is valid). A file with `tenantsDir` or
 * `stateDir` is a host config: it is loaded, then its tenants are loaded and cross-checked against `opts.facts`,
 * and their issues are included (each against its own file). Any other file is a tenant file. With `opts.host` it is
 * resolved with that host's `[defaults]` (the host's own issues are returned if it is invalid), then it gets every
 * check across tenants (see crossCheck) against `opts.facts` and the host's other tenants: the valid files of its
 * tenantsDir other than this file and other than this tenant's name, as they would be admitted together (a
 * tenantsDir that cannot be listed is an issue of the host file). Without `opts.host` it is checked alone with the
 * built-in defaults.
 */
export function checkFile(file: string, opts: CheckFileOptions = {}): ConfigIssue[] {
  const absFile = resolve(file);
  try {
    const table = readToml(absFile);
    if ("tenantsDir" in table || "stateDir" in table) {
      const { host, defaults } = loadHost(absFile);
      return loadTenants(host, defaults, opts.facts ?? hostFacts()).rejected.flatMap((r) => r.issues);
    }
    if (opts.host === undefined) {
      tenantFromToml(table, absFile, standaloneHost(absFile), {});
      return [];
    }
    const { host, defaults } = loadHost(opts.host);
    const tenant = tenantFromToml(table, absFile, host, defaults);
    const facts = opts.facts ?? hostFacts();
    const read = readTenantFiles(host, defaults);
    const unlisted = read.files === null ? read.rejected.flatMap((r) => r.issues) : [];
    const others = read.loaded.filter((t) => t.file !== absFile && t.name !== tenant.name);
    return [...unlisted, ...admissionIssues(tenant, crossCheck(others, facts).accepted, facts)];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
}

/** A stand-in host for checking a tenant file on its own: only its paths matter, and only for resolving. */
function standaloneHost(tenantFile: string): HostConfig {
  const dir = dirname(tenantFile);
  return { file: "(none)", instance: "default", stateDir: dir, tenantsDir: dir, controlSocket: `${dir}/control.sock`, heartbeatMs: 250, hungAfterMs: 2000, startTimeoutMs: 15000 };
}
