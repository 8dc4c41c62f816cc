/** @module registry — maps a service name to its definition, so one process can host any group of services (the topology). */
import type { ServiceName, TenantConfig } from "../kernel/config/index.ts";
import type { FileSystem } from "../kernel/ipc/protocol/index.ts";
import type { ServiceDefinition } from "../kernel/service-host/index.ts";

const loaders: Record<ServiceName, () => Promise<ServiceDefinition>> = {
  "client-cache": async () => (await import("./client-cache/index.ts")).clientCacheService,
  union: async () => (await import("./union/index.ts")).unionService,
  "ipc-router": async () => (await import("./ipc-router/index.ts")).ipcRouterService,
  "fuse-legacy": async () => (await import("./fuse-legacy/index.ts")).fuseLegacyService,
};

/** The definition of service `name` (its module is loaded on first use). */
export function loadService(name: ServiceName): Promise<ServiceDefinition> {
  return loaders[name]();
}

/** The process entry the supervisor runs for a process group whose first service is `first`. */
export function entryPoint(first: ServiceName): string {
  return new URL(`./${first}/main.ts`, import.meta.url).pathname;
}

/** A tenant's backend opened outside its services: its root, and how to release it. */
export interface BackendRoot {
  /** The backend's root ("/" is the tenant's backend root). */
  readonly fs: FileSystem;
  /** Unmounts (cephfs) and releases the instance. */
  close(): Promise<void>;
}

/**
 * The tenant's backend at its root, opened in this process as client-cache opens it (the kernel's offline tools,
 * such as image import and clones, go through here rather than into the service). Throws what TenantStorage.open throws.
 */
export async function openBackendRoot(tenant: TenantConfig, sessionName: string): Promise<BackendRoot> {
  const { attachMount, TenantStorage } = await import("./client-cache/index.ts");
  const storage = await TenantStorage.open(tenant, sessionName, () => {});
  const fs = attachMount(storage.shared, { kind: "direct", source: "" });
  return {
    fs,
    async close() {
      (fs as { dispose?: () => void }).dispose?.();
      await storage.close();
    },
  };
}
