/** @module registry — maps a service name to its definition, so one process can host any group of services (the topology). */
import type { ServiceName } from "../kernel/config/index.ts";
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
