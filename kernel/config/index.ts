/** @module config — the public surface of kernel/config: loading, resolving and checking host and tenant configs. */
export { ConfigError, type ConfigIssue } from "./config-error.ts";
export { loadHost } from "./load-host.ts";
export { resolveTenant } from "./resolve-tenant.ts";
export { loadTenantFile, tenantFromToml } from "./load-tenant.ts";
export { admitTenants, loadTenants, readTenantFiles, type LoadTenantsResult, type RejectedTenant, type TenantFiles } from "./load-tenants.ts";
export { hostFacts, type HostFacts } from "./host-facts.ts";
export { crossCheck, type CrossCheckResult } from "./cross-check.ts";
export { checkFile, type CheckFileOptions } from "./check-file.ts";
export { jsonSchemas } from "./json-schemas.ts";
export { tenantFingerprint } from "./fingerprint.ts";
export { parseSize, formatSize } from "./size.ts";
export { SERVICE_NAMES, type ServiceName, type RestartType, type TenantFile, type TenantDefaults, type HostFile } from "./schema.ts";
export type { HostConfig, TenantConfig, BackendConfig, MountConfig, CacheConfig, RestartConfig } from "./types.ts";
