/**
 * @module fuse-server — serves one FileSystem at a mount point over /dev/fuse, in pure TypeScript. The main thread
 * opens the device, mounts and unmounts; one Worker builds its own FileSystem from an opener module and runs the
 * blocking read → handle → write loop. One Worker, because the node table lives in the serving thread (several
 * Workers on the same fd would each need the shared table, which does not exist yet).
 */
import { statSync } from "node:fs";
import { answerInit } from "./handshake.ts";
import { closeFuseDevice, FuseMountError, mountFuse, openFuseDevice, unmountFuse } from "./mount.ts";
import type { FuseLogger, FuseSessionOptions } from "./options.ts";
import type { FileSystemOpener, FromServingWorker, ToServingWorker } from "./worker-messages.ts";

/** How to start a {@link FuseServer}. */
export interface FuseServerOptions extends FuseSessionOptions {
  /** An existing directory to mount on. */
  readonly mountPoint: string;
  /** How the serving Worker builds the FileSystem it serves. */
  readonly opener: FileSystemOpener;
  /** `fuse.<name>` type and source; default "danaus". */
  readonly name?: string;
  /** `allow_other`; default true. */
  readonly allowOther?: boolean;
  /** `default_permissions` (the kernel checks mode bits); default true. */
  readonly defaultPermissions?: boolean;
  /** Hears handler bugs (answered EIO) and serving-loop failures. */
  readonly logger?: FuseLogger;
  /** How long to wait for the Worker to load and for the kernel's INIT, in ms. Default 10 000. */
  readonly startTimeoutMs?: number;
}

/** A FUSE server that did not start: the Worker failed, the mount was refused or INIT never came. */
export class FuseServerError extends Error {
  override readonly name = "FuseServerError";
  constructor(readonly mountPoint: string, readonly problem: string) {
    super(`FUSE server for ${mountPoint}: ${problem}`);
  }
}

/** A mounted, serving FUSE filesystem. Create with {@link FuseServer.start}; always {@link FuseServer.stop} it. */
export class FuseServer {
  /** Resolves with the serving loop's end reason ("unmounted" after a clean stop). */
  readonly stopped: Promise<string>;
  private mounted = true;

  private constructor(
    /** The mount point being served. */
    readonly mountPoint: string,
    /** The negotiated protocol minor and INIT flags. */
    readonly protocol: { readonly minor: number; readonly flags: number },
    private readonly fd: number,
    private readonly worker: Worker,
    stopped: Promise<string>,
  ) {
    this.stopped = stopped;
  }

  /**
   * Opens /dev/fuse, starts the serving Worker, mounts `options.mountPoint` and waits until the kernel's INIT is
   * answered (on this thread: see handshake.ts). Throws {@link FuseMountError} (EPERM when not root, ENOENT without /dev/fuse) or {@link FuseServerError};
   * nothing stays mounted or open on failure.
   */
  static async start(options: FuseServerOptions): Promise<FuseServer> {
    const { mountPoint, logger } = options;
    if (!statSync(mountPoint, { throwIfNoEntry: false })?.isDirectory()) {
      throw new FuseServerError(mountPoint, "the mount point is not an existing directory");
    }
    const timeoutMs = options.startTimeoutMs ?? 10_000;
    const fd = openFuseDevice(mountPoint);
    const worker = new Worker(new URL("./serving-worker.ts", import.meta.url).href);
    const waiters = new Map<string, (message: FromServingWorker) => void>();
    let resolveStopped: (reason: string) => void = () => undefined;
    const stopped = new Promise<string>((resolve) => (resolveStopped = resolve));
    worker.onmessage = (event: MessageEvent<FromServingWorker>) => {
      const message = event.data;
      if (message.kind === "log") {
        logger?.[message.level](message.msg, message.fields);
        return;
      }
      if (message.kind === "stopped") resolveStopped(message.reason);
      if (message.kind === "error") logger?.error("fuse serving worker failed", { mountPoint, error: message.message });
      const waiter = waiters.get(message.kind) ?? waiters.get("any");
      waiter?.(message);
    };
    worker.onerror = (event) => {
      logger?.error("fuse serving worker crashed", { mountPoint, error: event.message });
      resolveStopped(`worker crashed: ${event.message}`);
      waiters.get("error")?.({ kind: "error", message: event.message });
    };
    const next = (kinds: readonly string[]) =>
      new Promise<FromServingWorker>((resolve, reject) => {
        const timer = setTimeout(() => reject(new FuseServerError(mountPoint, `no ${kinds.join("/")} within ${timeoutMs} ms`)), timeoutMs);
        const done = (message: FromServingWorker) => {
          clearTimeout(timer);
          for (const kind of [...kinds, "error"]) waiters.delete(kind);
          resolve(message);
        };
        for (const kind of [...kinds, "error"]) waiters.set(kind, done);
      });

    const send = (message: ToServingWorker) => worker.postMessage(message);
    let isMounted = false;
    try {
      const ready = next(["ready"]);
      send({
        kind: "start",
        fd,
        opener: options.opener,
        options: { directIo: options.directIo, attrTimeoutMs: options.attrTimeoutMs, entryTimeoutMs: options.entryTimeoutMs },
      });
      const first = await ready;
      if (first.kind === "error") throw new FuseServerError(mountPoint, `the serving worker could not start: ${first.message}`);
      mountFuse({
        fd,
        mountPoint,
        ...(options.name ? { name: options.name } : {}),
        ...(options.allowOther === undefined ? {} : { allowOther: options.allowOther }),
        ...(options.defaultPermissions === undefined ? {} : { defaultPermissions: options.defaultPermissions }),
      });
      isMounted = true;
      const init = answerInit(fd);
      if (init.error !== undefined) throw new FuseServerError(mountPoint, `INIT refused: errno ${init.error}`);
      send({ kind: "serve", minor: init.minor, flags: init.flags });
      return new FuseServer(mountPoint, { minor: init.minor, flags: init.flags }, fd, worker, stopped);
    } catch (error) {
      worker.terminate();
      // INIT is answered (or the mount never happened), so unmounting cannot hang; closing the device aborts the rest.
      if (isMounted) unmountFuse(mountPoint);
      closeFuseDevice(fd);
      if (error instanceof FuseMountError || error instanceof FuseServerError) throw error;
      throw new FuseServerError(mountPoint, error instanceof Error ? error.message : String(error));
    }
  }

  /**
   * Unmounts (lazily when busy), waits up to `timeoutMs` for the serving loop to see ENODEV, then ends the Worker and
   * closes the device. Idempotent. Returns the loop's end reason, or "timeout".
   */
  async stop(timeoutMs = 5000): Promise<string> {
    if (this.mounted) {
      this.mounted = false;
      const status = unmountFuse(this.mountPoint);
      if (status !== 0 && status !== 22) {
        closeFuseDevice(this.fd);
        this.worker.terminate();
        throw new FuseMountError(this.mountPoint, status, "umount");
      }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reason = await Promise.race([
      this.stopped,
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs))),
    ]);
    clearTimeout(timer);
    closeFuseDevice(this.fd);
    this.worker.terminate();
    return reason;
  }
}
