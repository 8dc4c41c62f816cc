/**
 * @module local-data-path — what the ipc-router of this process serves, for another service of the same process
 * group: the tenant storage's shared tables and the served mounts with their branches. fuse-legacy, when the tenant's
 * topology puts it in the data-path process, serves its FUSE mounts straight from these (one crossing fewer than
 * through the shared-memory ring), with the same cache and the same view.
 */
import type { MountBranches, StorageShared } from "../client-cache/index.ts";

/** The data path of this process: what a thread needs to attach the same mounts as the service threads. */
export interface LocalDataPath {
  /** Structured-cloneable: goes to Workers as is. */
  readonly storage: StorageShared;
  readonly mounts: readonly { readonly path: string; readonly branches: MountBranches }[];
}

let published: LocalDataPath | undefined;

/** Called by the router once it serves (and with undefined when it stops). */
export function publishLocalDataPath(dataPath: LocalDataPath | undefined): void {
  published = dataPath;
}

/** The data path this process serves, or undefined when the ipc-router runs in another process (or not yet). */
export function localDataPath(): LocalDataPath | undefined {
  return published;
}
