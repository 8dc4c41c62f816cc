/** @module load-tenant — reads, validates and resolves one tenant file. */
import { resolve } from "node:path";
import { readToml } from "./read-toml.ts";
import { resolveTenant } from "./resolve-tenant.ts";
import { TenantFileSchema, type TenantDefaults } from "./schema.ts";
import type { HostConfig, TenantConfig } from "./types.ts";
import { validate } from "./validate.ts";

/**
 * Reads one tenant file and returns it resolved against the host config and its `[defaults]`.
 * Throws ConfigError listing every issue in the file (missing or unreadable, TOML syntax with line:column, unknown or
 * invalid fields, inconsistent values). Checks against other tenants and the host's cores are crossCheck's job.
 */
export function loadTenantFile(file: string, host: HostConfig, defaults: TenantDefaults): TenantConfig {
  const absFile = resolve(file);
  return tenantFromToml(readToml(absFile), absFile, host, defaults);
}

/** Validates and resolves an already parsed tenant file (`file` absolute). Throws ConfigError like loadTenantFile. */
export function tenantFromToml(table: Record<string, unknown>, file: string, host: HostConfig, defaults: TenantDefaults): TenantConfig {
  return resolveTenant(validate(TenantFileSchema, table, file), file, host, defaults);
}
