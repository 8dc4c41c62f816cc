/**
 * @module tenant-user — running a tenant's services as the tenant's own user: what they must own before they start
 * (run directory, heartbeat file, local backend root) and the launcher that drops to that user before Bun runs.
 * With distinct users, one tenant's region, sockets and files are closed to every other tenant by file modes alone.
 */
import { chownSync, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { TenantConfig } from "../config/index.ts";
import type { TenantPaths } from "./paths.ts";

/** A tenant asks for a user the supervisor cannot switch to. */
export class TenantUserError extends Error {
  override readonly name = "TenantUserError";
  constructor(readonly tenant: string, reason: string) {
    super(`tenant ${tenant} cannot run as its configured uid: ${reason}`);
  }
}

/** The argv prefix that starts a program as the tenant's user (empty when the tenant has none). */
export function userLauncher(tenant: TenantConfig): string[] {
  const user = tenant.user;
  if (user === null) return [];
  const setpriv = Bun.which("setpriv");
  if (setpriv === null) throw new TenantUserError(tenant.name, "setpriv (util-linux) is not installed");
  return [setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--"];
}

/**
 * Hands the tenant's runtime files to its user before its services start: the run directory, the heartbeat file and
 * the local backend's root (created if missing). Throws TenantUserError when this process may not change owners.
 */
export function handOverToTenantUser(tenant: TenantConfig, paths: TenantPaths): void {
  const user = tenant.user;
  if (user === null) return;
  if (process.getuid?.() !== 0) throw new TenantUserError(tenant.name, "only a supervisor running as root can switch users");
  const owned = [paths.runDir, paths.heartbeatFile];
  if (tenant.backend.kind === "local") {
    if (!existsSync(tenant.backend.root)) {
      // Parents traversable (0711), the root itself private to the tenant (0700).
      mkdirSync(dirname(tenant.backend.root), { recursive: true, mode: 0o711 });
      mkdirSync(tenant.backend.root, { mode: 0o700 });
    }
    owned.push(tenant.backend.root);
  }
  for (const path of owned) chownSync(path, user.uid, user.gid);
}
