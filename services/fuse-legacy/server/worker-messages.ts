/** @module worker-messages — the messages between a FuseServer and its serving Worker, as plain data. */
import type { FuseSessionOptions } from "./options.ts";

/**
 * How a serving Worker builds its own FileSystem: it imports `module` and calls its export `exportName` (default
 * "openFileSystem") with `spec` and the Worker's index (0 … threads-1). The result must be usable from that thread, and
 * a handle one Worker's FileSystem opened must work in every other's (the kernel may send a file's READ to any of
 * them): a LocalBackend over the same root does (fds are per process), as do shared-memory clients attached to one
 * registration.
 */
export interface FileSystemOpener {
  /** Absolute path or file: URL of the module. */
  readonly module: string;
  readonly exportName?: string;
  /** Structured-cloneable argument of the function. */
  readonly spec?: unknown;
}

/** Main thread → Worker. */
export type ToServingWorker =
  | {
      readonly kind: "start";
      readonly index: number;
      readonly opener: FileSystemOpener;
      readonly options: FuseSessionOptions;
      /** The mount's node table (NodeTable.allocate), shared by its serving Workers. */
      readonly nodes: SharedArrayBuffer;
      /** A FaultState's buffer: each request first waits out the injected `slow` latency. */
      readonly faults?: SharedArrayBuffer;
      /** A ServerCounters buffer to add the requests served and their time to (FuseServerOptions.counters). */
      readonly counters?: SharedArrayBuffer;
    }
  /** `fd`: the mounted /dev/fuse fd (it exists only once mounted: fusermount3 opens it). */
  | { readonly kind: "serve"; readonly fd: number; readonly minor: number; readonly flags: number };

/** Worker → main thread. */
export type FromServingWorker =
  | { readonly kind: "ready" }
  | { readonly kind: "log"; readonly level: "warn" | "error"; readonly msg: string; readonly fields?: object }
  | { readonly kind: "stopped"; readonly reason: string }
  | { readonly kind: "error"; readonly message: string };
