/**
 * @module shims — what Bun apps import to reach their tenant's filesystem service over shared memory:
 * `DanausClient` (synchronous POSIX-like calls) and `promises` (a `node:fs/promises`-shaped facade).
 */
export { DanausClient, resolveSocket, type ConnectOptions } from "./client.ts";
export { RingFileSystem, type RingFileSystemOptions, type SharedRegionView } from "./ring-fs.ts";
export { CLIENT_MAX_SPIN, Connection, notConnected, type ThreadGrant } from "./connection.ts";
export { StreamTransport } from "./stream-transport.ts";
export { GrantBoard, type PostedGrants } from "./grant-board.ts";
export { RenewingFileSystem } from "./renewing-file-system.ts";
export { HandleTable, WideHandleNames, type HandleNames } from "./handle-names.ts";
export { ServingRegistration, type ServingEvents, type ServingSpec } from "./serving-registration.ts";
export type { Transport } from "./transport.ts";
export { FsError, type Dirent, type Stat, type Statfs, type Timespec } from "../../kernel/ipc/protocol/index.ts";
export { promises, DanausPromises, FileHandle, Stats } from "./promises/index.ts";
