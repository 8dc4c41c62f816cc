/** @module load-host — reads the host config: paths made absolute, tenant [defaults] checked. */
import { dirname, join, resolve } from "node:path";
import { ConfigError } from "./config-error.ts";
import { readToml } from "./read-toml.ts";
import { HostFileSchema, type TenantDefaults } from "./schema.ts";
import { defaultsIssues } from "./tenant-checks.ts";
import type { HostConfig } from "./types.ts";
import { validate } from "./validate.ts";

/**
 * Reads the host config file. stateDir, tenantsDir and controlSocket are resolved against the file's directory
 * when relative; controlSocket defaults to <stateDir>/control.sock. Returns the host config and the `[defaults]`
 * for its tenants ({} when absent), to pass on to loadTenants / loadTenantFile.
 * Throws ConfigError when the file is missing, is not TOML, has unknown or invalid fields, or has inconsistent
 * defaults (e.g. defaults.cache.maxDirty > defaults.cache.size). Does not look at the directories themselves.
 */
export function loadHost(file: string): { host: HostConfig; defaults: TenantDefaults } {
  const absFile = resolve(file);
  const parsed = validate(HostFileSchema, readToml(absFile), absFile);
  const defaults = parsed.defaults ?? {};
  const issues = defaultsIssues(defaults, absFile);
  if (issues.length > 0) throw new ConfigError(issues);
  const dir = dirname(absFile);
  const stateDir = resolve(dir, parsed.stateDir);
  const host: HostConfig = {
    file: absFile,
    instance: parsed.instance,
    stateDir,
    tenantsDir: resolve(dir, parsed.tenantsDir),
    controlSocket: parsed.controlSocket === undefined ? join(stateDir, "control.sock") : resolve(dir, parsed.controlSocket),
    heartbeatMs: parsed.heartbeatMs,
    hungAfterMs: parsed.hungAfterMs,
    startTimeoutMs: parsed.startTimeoutMs,
  };
  return { host, defaults };
}
