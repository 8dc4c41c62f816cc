/** @module ipc-router — the tenant's back driver (paper §3.5, §4.1): request queues, client registry, mount table. */
import type { ServiceDefinition } from "../../kernel/service-host/index.ts";
import { IpcRouter } from "./router.ts";

export { IpcRouter, DEFAULT_LIMITS, type RouterLimits } from "./router.ts";
export { streamSocketPath } from "./stream-server.ts";
export { countMutations, localDataPath, type LocalDataPath } from "./local-data-path.ts";
export {
  ChangedLineSchema,
  routerSocketPath,
  nameChangedFromWire,
  nameChangedToWire,
  RegistrationReplySchema,
  RegistrationRequestSchema,
  type ChangedLine,
  type MountEntry,
  type NameChanged,
  type NameChangedPaths,
  type RegistrationReply,
  type RegistrationRequest,
} from "./registration.ts";
export * as protocol from "../../kernel/ipc/protocol/index.ts";
export * as ring from "../../kernel/ipc/ring/index.ts";

/** The ipc-router service: serves the tenant's data path until stopped. */
export const ipcRouterService: ServiceDefinition = {
  name: "ipc-router",
  async start(ctx) {
    const router = await IpcRouter.start(ctx);
    return { stop: () => router.stop() };
  },
};
