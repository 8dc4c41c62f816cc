/**
 * @module ipc-router — the tenant's front (paper §3.5, §4.1): the request queues applications reach, client
 * registration, the open-file table and the mount table (a data-path server in the front's role, see
 * services/data-path-server.ts), and the stream socket.
 */
import type { ServiceDefinition } from "../../kernel/service-host/index.ts";
import { IpcRouter } from "./router.ts";

export { IpcRouter } from "./router.ts";
export { DEFAULT_LIMITS, type RouterLimits } from "../data-path-server.ts";
export { streamSocketPath } from "./stream-server.ts";
export { countMutations, localDataPath, type LocalDataPath } from "./local-data-path.ts";
export { routerSocketPath } from "../../kernel/ipc/sockets.ts";

/** The ipc-router service: serves the tenant's data path until stopped. */
export const ipcRouterService: ServiceDefinition = {
  name: "ipc-router",
  async start(ctx) {
    const router = await IpcRouter.start(ctx);
    return { stop: () => router.stop() };
  },
};
