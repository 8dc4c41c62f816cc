/**
 * @module server — the serving end of the typed channel: the registration socket and its messages (registry,
 * registration), the open-file table, the service threads that take requests off a region's queues and dispatch them
 * to FileSystem instances, their activity table and watchdog, the log of what clients changed, the mapping of the
 * application region for bulk data passed by reference, and the ring server that runs them all (ring-server.ts).
 * Every ring server of a tenant is built from it: the front (ipc-router, which applications reach) and the channel
 * hosts of a split topology (union, client-cache), assembled in services/data-path-server.ts. Which FileSystem
 * instances a thread serves is given to it (see service-thread.ts).
 */
export { ActivityTable, type ActiveRequest } from "./activity.ts";
export { ChangeLog, type Change, type NameChange, type NameChangeKind } from "./change-log.ts";
export { dispatch, type DispatchContext, type Served } from "./dispatch.ts";
export { DEFAULT_MAX_DIR_STREAMS, FileTable, type AcquiredFile } from "./file-table.ts";
export { FrontRegion, type FrontMapping } from "./front-region.ts";
export { PathStage, STAGE_BYTES, type PathStageShared } from "./path-stage.ts";
export { DEFAULT_GC_EVERY, FULL_GC_GROWTH, GcPacer } from "./gc-pacer.ts";
export * from "./registration.ts";
export { Registry, type RegistryDeps } from "./registry.ts";
export { DEFAULT_LIMITS, RingServer, threadSlotsOf, type RingLimits, type RingServerOptions } from "./ring-server.ts";
export { ServerCounters, ServiceTimer } from "./server-counters.ts";
export { CONTROL, type AttachMounts, type ServiceThreadInit, type ServiceThreadMessage } from "./service-thread.ts";
export { heldRequests, needsThread, type HeldRequest } from "./watchdog.ts";
