/**
 * @module tenant-backend — a tenant's backend opened from the CLI: its config found by name in the host's tenantsDir,
 * then its storage opened as the data path opens it (local or cephfs), but without the cache, under a Ceph session
 * name of its own (so it never evicts the running tenant service's session).
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { loadHost, loadTenantFile, type HostConfig, type TenantConfig, type TenantDefaults } from "../config/index.ts";
import { openBackendRoot, type BackendRoot } from "../../services/registry.ts";
import { ImageError } from "./image-error.ts";

/** A tenant as the image commands see it: the host config, its `[defaults]`, and the tenant's file and config. */
export interface TenantRef {
  readonly host: HostConfig;
  readonly defaults: TenantDefaults;
  /** The tenant's TOML file, `<tenantsDir>/<name>.toml`. */
  readonly file: string;
  readonly tenant: TenantConfig;
}

/**
 * Loads tenant `name` of the host config `hostFile`. Throws ImageError "not-found" when the host has no such
 * tenant file, "invalid" for a name that is not a tenant name, and ConfigError when either file is invalid.
 */
export function findTenant(hostFile: string, name: string): TenantRef {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw new ImageError("invalid", `"${name}" is not a tenant name (lower-case letters, digits, "-" and "_")`);
  const { host, defaults } = loadHost(hostFile);
  const file = join(host.tenantsDir, `${name}.toml`);
  if (!existsSync(file)) throw new ImageError("not-found", `unknown tenant "${name}": there is no ${file} (tenants of ${host.file} live in ${host.tenantsDir})`);
  return { host, defaults, file, tenant: loadTenantFile(file, host, defaults) };
}

/** The tenant's backend at its root, open in this process. */
export type OpenBackend = BackendRoot;

/**
 * Opens `ref`'s backend at its root with the cache off (an import writes each byte once; nothing is worth caching).
 * `purpose` goes into the Ceph session name (`danaus.<instance>.<tenant>.<purpose>.<pid>`).
 * Throws what TenantStorage.open throws (CephMountError, FsError), with the tenant named.
 */
export async function openTenantBackend(ref: TenantRef, purpose: string): Promise<OpenBackend> {
  const tenant: TenantConfig = { ...ref.tenant, cache: { ...ref.tenant.cache, sizeBytes: 0, maxDirtyBytes: 0 } };
  if (tenant.backend.kind === "local") mkdirSync(tenant.backend.root, { recursive: true, mode: 0o700 });
  let opened: BackendRoot;
  try {
    opened = await openBackendRoot(tenant, `danaus.${ref.host.instance}.${tenant.name}.${purpose}.${process.pid}`);
  } catch (error) {
    throw new ImageError("io", `cannot open the ${tenant.backend.kind} backend of tenant "${tenant.name}" (root ${tenant.backend.root}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return opened;
}
