/**
 * @module local-data-path — what the ipc-router of this process serves, for another service of the same process
 * group: the tenant storage's shared tables and the served mounts with their branches. fuse-legacy, when the tenant's
 * topology puts it in the data-path process, serves its FUSE mounts straight from these (one crossing fewer than
 * through the shared-memory ring), with the same cache and the same view.
 */
import type { MountBranches, StorageShared } from "../client-cache/index.ts";
import { mutates, OP_FLAG, OPERATIONS, type FileSystem } from "../../kernel/ipc/protocol/index.ts";
import { Region } from "../../kernel/ipc/ring/index.ts";

/** The data path of this process: what a thread needs to attach the same mounts as the service threads. */
export interface LocalDataPath {
  /** Structured-cloneable: goes to Workers as is. */
  readonly storage: StorageShared;
  readonly mounts: readonly { readonly path: string; readonly branches: MountBranches }[];
  /** Where the tenant's region is mapped in this process (every thread): see {@link countMutations}. */
  readonly regionAddress: number;
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

/**
 * `fs` (a mount attached from this process's tenant storage) for a thread that serves it without the ring: each call
 * that may change a file or a name (the operation table's `mutates`) bumps the tenant's mutation generation in the
 * region mapped at `regionAddress` once it returns or throws, as dispatch does for every ring request. So the preload
 * library's attribute caches see changes made through an in-process FUSE mount at once. Other calls go to `fs` as
 * they are.
 */
export function countMutations(fs: FileSystem, regionAddress: number): FileSystem {
  const region = Region.attach(regionAddress);
  const own = fs as unknown as Record<PropertyKey, unknown>;
  const methods = new Map<PropertyKey, unknown>();
  for (const op of OPERATIONS) {
    if ((op.flags & OP_FLAG.MUTATES) === 0 && !("mutatesWhen" in op)) continue;
    const call = own[op.name] as (...a: unknown[]) => unknown;
    // The method takes the request's path(s) where args[0] (the mount) is, then the other arguments in table order.
    const paths = op.request === "two-paths" ? 2 : 1;
    // Only an operation that mutates with some arguments needs them as the table numbers them (a write, the hot
    // case, mutates whatever its arguments: nothing is built for it).
    const always = (op.flags & OP_FLAG.MUTATES) !== 0;
    methods.set(op.name, (...a: unknown[]) => {
      try {
        return call.apply(fs, a);
      } finally {
        if (always || mutates(op, [0, ...a.slice(paths).map((x) => (typeof x === "number" ? x : 0))])) region.bumpMutations();
      }
    });
  }
  return new Proxy(fs, {
    get(target, key) {
      const wrapped = methods.get(key);
      if (wrapped !== undefined) return wrapped;
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      const bound = (value as (...a: unknown[]) => unknown).bind(target);
      methods.set(key, bound);
      return bound;
    },
  });
}
