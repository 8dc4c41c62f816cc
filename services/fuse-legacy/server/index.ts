/** @module fuse-legacy/server — a pure-TypeScript FUSE server that serves any FileSystem at a mount point. */
export { FuseServer, FuseServerError, type ChangedName, type FuseServerOptions } from "./fuse-server.ts";
export { FuseSession } from "./session.ts";
export { NodeTable, childPath, pathNames, type FileKey, type NodeKey } from "./node-table.ts";
export { negotiateInit, SERVER_MINOR, MIN_KERNEL_MINOR, WANTED_INIT_FLAGS, type InitResult } from "./init.ts";
export { answerInit, type Handshake } from "./handshake.ts";
export {
  closeFuseDevice,
  FuseMountError,
  mountFuse,
  mountFuseDevice,
  openFuseDevice,
  unmountFuse,
  unmountFuseMount,
  type FuseDeviceMount,
  type MountedBy,
  type MountSpec,
  type MountWith,
} from "./mount.ts";
export { FusermountError, findFusermount, fusermountOptions, mountWithFusermount, unmountWithFusermount, userAllowOther } from "./fusermount.ts";
export { MAX_PAGES, MAX_WRITE, REPLY_BUFFER_SIZE, REQUEST_BUFFER_SIZE, type FuseLogger, type FuseSessionOptions } from "./options.ts";
export type { FileSystemOpener } from "./worker-messages.ts";
