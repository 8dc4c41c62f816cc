/**
 * @module storage-opener — what the FUSE serving Workers serve when fuse-legacy shares the tenant service's process
 * (topology): the mount attached straight from the tenant storage, as the ipc-router's service threads attach it
 * (same shared cache, same union tables, handles valid in every thread of the process), without the shared-memory
 * ring in between.
 */
import { attachMount, type MountBranches, type StorageShared } from "../client-cache/index.ts";
import { countMutations } from "../ipc-router/index.ts";
import type { FileSystem } from "../../kernel/ipc/protocol/index.ts";

/** Which mount a serving Worker attaches, from the process's local data path. */
export interface StorageSpec {
  readonly storage: StorageShared;
  readonly branches: MountBranches;
  /** The tenant's region in this process: changes made through the mount bump its mutation generation. */
  readonly regionAddress: number;
}

/** The serving Worker's side: the mount's FileSystem over the tenant storage of this process. */
export function openFileSystem(spec: StorageSpec): FileSystem {
  return countMutations(attachMount(spec.storage, spec.branches), spec.regionAddress);
}
