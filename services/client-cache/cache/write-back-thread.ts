/**
 * @module write-back-thread — the periodic write-back: a dedicated Worker that attaches the shared cache and runs
 * {@link SharedCache.writeBackDue} every `writebackMs` (Linux's flusher thread), opening its own instance of each
 * backend to write back through the handles the service threads recorded. Also an in-thread timer variant.
 */
import type { FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import type { SharedCacheData } from "./layout.ts";
import type { SharedCache } from "./shared-cache.ts";

/**
 * How the write-back thread opens backend instances, as plain data: a module it imports and a function exported by
 * it, called as `fn(specs[backendId], backendId)` and returning a FileSystem (e.g. client-cache's `openBackend`).
 */
export interface BackendOpener {
  /** Absolute path or file: URL of the module. */
  readonly module: string;
  /** The exported function; default "openBackend". */
  readonly exportName?: string;
  /** Per backend id, the argument for the function. */
  readonly specs: Readonly<Record<number, unknown>>;
}

/** A running write-back thread. */
export interface WriteBackThread {
  /** Resolves once the thread has attached the cache and runs its ticks; rejects if it cannot start. */
  readonly ready: Promise<void>;
  /** Lets the thread open backend `backendId` from `spec` (a mount added later). */
  addBackend(backendId: number, spec: unknown): void;
  /**
   * Stops the ticks; with `flush` (default true) writes back everything first; then ends the Worker. Resolves when
   * done.
   */
  stop(options?: { flush?: boolean }): Promise<void>;
}

/** Messages to the write-back worker. */
export type WriteBackRequest =
  | { kind: "start"; data: SharedCacheData; opener: BackendOpener }
  | { kind: "add"; backendId: number; spec: unknown }
  | { kind: "stop"; flush: boolean };

/** Messages from the write-back worker. */
export type WriteBackReply = { kind: "ready" } | { kind: "stopped" } | { kind: "error"; message: string };

/**
 * Starts the write-back Worker for `shared`. `onError` hears about failures of a tick that are not backend errors
 * (backend errors are recorded in the files and reported by their fsync or close).
 */
export function startWriteBackThread(shared: SharedCacheData, opener: BackendOpener, onError?: (message: string) => void): WriteBackThread {
  const worker = new Worker(new URL("./write-back-worker.ts", import.meta.url).href);
  let readyResolve: () => void = () => undefined;
  let readyReject: (error: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  let stopped: (() => void) | undefined;
  let dead = false;
  worker.onmessage = (event: MessageEvent<WriteBackReply>) => {
    const reply = event.data;
    if (reply.kind === "ready") readyResolve();
    else if (reply.kind === "stopped") stopped?.();
    else {
      readyReject(new Error(reply.message));
      onError?.(reply.message);
    }
  };
  worker.onerror = (event) => {
    dead = true;
    const message = event.message || "write-back worker failed";
    readyReject(new Error(message));
    onError?.(message);
    stopped?.();
  };
  const post = (request: WriteBackRequest): void => worker.postMessage(request);
  post({ kind: "start", data: shared, opener });
  let stopping: Promise<void> | undefined;
  return {
    ready,
    addBackend(backendId, spec) {
      post({ kind: "add", backendId, spec });
    },
    stop(options = {}) {
      stopping ??= new Promise<void>((resolve) => {
        stopped = resolve;
        if (dead) resolve();
        else post({ kind: "stop", flush: options.flush ?? true });
      }).then(() => worker.terminate());
      return stopping;
    },
  };
}

/** A write-back timer running in the calling thread. */
export interface WriteBackTimer {
  /** Stops the timer (a tick in progress finishes first: ticks are synchronous). */
  stop(): void;
}

/**
 * Runs `cache.writeBackDue()` every `writebackMs` in the calling thread, for the backends registered in it — for a
 * process without a dedicated write-back Worker, and for tests.
 */
export function startWriteBackTimer(cache: SharedCache, onError?: (error: unknown) => void): WriteBackTimer {
  const timer = setInterval(() => {
    try {
      cache.writeBackDue();
    } catch (error) {
      onError?.(error);
    }
  }, cache.config.writebackMs);
  return { stop: () => clearInterval(timer) };
}

/** Opens backends in the write-back worker from a {@link BackendOpener} (exported for the worker). */
export async function loadOpener(opener: BackendOpener): Promise<(spec: unknown, backendId: number) => FileSystem> {
  const module = (await import(opener.module)) as Record<string, unknown>;
  const open = module[opener.exportName ?? "openBackend"];
  if (typeof open !== "function") throw new Error(`${opener.module} exports no function ${opener.exportName ?? "openBackend"}`);
  return open as (spec: unknown, backendId: number) => FileSystem;
}
