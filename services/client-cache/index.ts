/** @module client-cache — the tenant's backend client and its shared cache (paper §3.3–3.4). */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { TenantConfig } from "../../kernel/config/index.ts";
import type { ServiceDefinition } from "../../kernel/service-host/index.ts";
import type { FileSystem } from "../ipc-router/protocol/index.ts";
import { LocalBackend } from "./backend/index.ts";

/**
 * How to open the filesystem instance of one mount, as plain data (a service thread opens its own instance from it).
 * `unsupported` says why a backend cannot be opened yet.
 */
export type BackendSpec = { kind: "local"; root: string } | { unsupported: string };

/** The backend spec of `source` (a path inside the tenant's backend root) for `tenant`. */
export function backendSpecFor(tenant: TenantConfig, source: string): BackendSpec {
  const backend = tenant.backend;
  if (backend.kind === "cephfs") return { unsupported: "the cephfs backend arrives with the client-cache issue (issue 4)" };
  return { kind: "local", root: join(backend.root, source) };
}

/** Opens a filesystem instance from its spec, in the calling thread. Throws for an unsupported spec. */
export function openBackend(spec: BackendSpec): FileSystem {
  if ("unsupported" in spec) throw new Error(spec.unsupported);
  return new LocalBackend(spec.root);
}

/**
 * The client-cache service. At this stage it prepares the backend (the `local` backend's root directory and each
 * direct mount's source directory, mode 0700); the data path opens its instances in the ipc-router's service threads.
 * The cache and the cephfs backend arrive with their issue.
 */
export const clientCacheService: ServiceDefinition = {
  name: "client-cache",
  start(ctx) {
    const backend = ctx.tenant.backend;
    if (backend.kind === "local") {
      mkdirSync(backend.root, { recursive: true, mode: 0o700 });
      for (const mount of ctx.tenant.mounts) {
        if (mount.kind === "direct") mkdirSync(join(backend.root, mount.source), { recursive: true, mode: 0o700 });
      }
    }
    ctx.log.info("client-cache started", { backend: backend.kind, root: backend.root });
    return {};
  },
};
