/** @module worker-messages — the messages between a FuseServer and its serving Worker, as plain data. */
import type { FuseSessionOptions } from "./options.ts";

/**
 * How a serving Worker builds its own FileSystem: it imports `module` and calls its export `exportName` (default
 * "openFileSystem") with `spec`. The result must be usable from that thread (a LocalBackend over the same root is).
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
  | { readonly kind: "start"; readonly fd: number; readonly opener: FileSystemOpener; readonly options: FuseSessionOptions }
  | { readonly kind: "serve"; readonly minor: number; readonly flags: number };

/** Worker → main thread. */
export type FromServingWorker =
  | { readonly kind: "ready" }
  | { readonly kind: "log"; readonly level: "warn" | "error"; readonly msg: string; readonly fields?: object }
  | { readonly kind: "stopped"; readonly reason: string }
  | { readonly kind: "error"; readonly message: string };
