/**
 * @module ipc — the microkernel's typed channel, which every service and shim builds on: `protocol` (the FileSystem
 * contract, errno, Linux flags, struct and region layouts, the opcode table, the C header generator), `ring` (the
 * shared-memory region and its request queues) and `server` (the serving end: registration, service threads,
 * dispatch). Applications reach the front (ipc-router) through it, and the services of a split topology reach each
 * other through it (see services/tenant-stack.ts).
 */
export * as protocol from "./protocol/index.ts";
export * as ring from "./ring/index.ts";
export { routerSocketPath } from "./sockets.ts";
export * as server from "./server/index.ts";
