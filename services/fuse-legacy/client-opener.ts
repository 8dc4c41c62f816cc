/**
 * @module client-opener — what the FUSE serving Workers serve in fuse-legacy's own process: the tenant's mount reached
 * through the shared-memory client of the tenant service, so the kernel path and the user-level path share one
 * service, one cache and one view. The main thread registers once per FUSE mount ({@link ServingRegistration}) and
 * hands each serving Worker a thread grant of that registration, so a file opened by one Worker is a descriptor of the
 * same client in all of them. When the tenant service restarts, the registration renews itself and posts the new
 * grants; the Workers follow (see renewing-file-system.ts).
 */
import type { FileSystem } from "../ipc-router/protocol/index.ts";
import { ERRNO, FsError } from "../ipc-router/protocol/index.ts";
import { Connection, type ThreadGrant } from "../../shims/ts/index.ts";
import { ChangeWatcher, type OnChanged } from "./change-watcher.ts";
import { GrantBoard } from "./grant-board.ts";
import { RenewingFileSystem } from "./renewing-file-system.ts";

/** What the serving Workers of a FUSE mount serve: which mount, and the board its current grants are posted on. */
export interface ClientSpec {
  /** The mount point, as in the tenant's mount table. */
  readonly mountPath: string;
  /** A {@link GrantBoard}'s buffer: one grant per serving Worker, renewed after a restart of the tenant service. */
  readonly board: SharedArrayBuffer;
}

/** How often the registration looks whether its service is still running, and retries a failed renewal. */
const WATCH_MS = 100;
/** Retry pause after a renewal failed while the service runs (e.g. it does not serve the mount, or has no buffer left). */
const RETRY_MS = 1000;

/**
 * What a registration tells its owner: the mount is served again, or cannot be served now (and why); and, when it
 * listens, which files clients of other processes wrote through the tenant service, and which names of the mount they
 * changed (to drop what the kernel cached).
 */
export interface RegistrationEvents {
  served(): void;
  unserved(problem: FsError): void;
  changed?: OnChanged;
}

/** Registers once with the service at `socket` and attaches a request buffer per serving Worker. Throws FsError. */
function register(socket: string, mountPath: string, threads: number): { connection: Connection; grants: ThreadGrant[] } {
  const connection = Connection.open(socket);
  try {
    if (!connection.mounts.some((m) => m.path === mountPath)) {
      const error = new FsError(ERRNO.ENOENT, "mount", mountPath);
      error.message = `ENOENT: the tenant service does not serve ${mountPath} (served: ${connection.mounts.map((m) => m.path).join(", ") || "none"})`;
      throw error;
    }
    return { connection, grants: Array.from({ length: threads }, () => connection.attachThread()) };
  } catch (error) {
    connection.close();
    if (error instanceof FsError && error.syscall === "attach_thread" && error.errno === ERRNO.EAGAIN) {
      error.message = `EAGAIN: attach_thread: every request buffer of the tenant is in use (${threads} serving threads wanted for ${mountPath})`;
    }
    throw error;
  }
}

/** The registration of the fuse-legacy process for one FUSE mount, kept alive across restarts of the tenant service. */
export class ServingRegistration {
  private readonly board = new GrantBoard();
  private readonly timer: ReturnType<typeof setInterval>;
  private nextTryAt = 0;
  private problem: string | null = null;
  /** Hears which files other processes wrote (when `events.changed` listens). */
  private readonly watcher: ChangeWatcher | undefined;

  private constructor(
    private readonly socket: string,
    private readonly mountPath: string,
    private readonly threads: number,
    private readonly events: RegistrationEvents,
    private connection: Connection | null,
    grants: readonly ThreadGrant[],
  ) {
    this.board.post(grants);
    this.timer = setInterval(() => this.watch(), WATCH_MS);
    this.timer.unref?.();
    this.watcher = events.changed === undefined ? undefined : new ChangeWatcher(socket, mountPath, events.changed);
    this.watcher?.keepOpen();
  }

  /**
   * Registers with the tenant service at `socket` (retrying while it starts, up to `connectTimeoutMs`) and attaches
   * `threads` request buffers for the serving Workers. Throws FsError: ENOENT at once when the service does not serve
   * `mountPath` (e.g. a union mount whose image is missing), EAGAIN when the tenant has no request buffer left,
   * ENOTCONN when no service answered in time.
   */
  static async open(socket: string, mountPath: string, threads: number, connectTimeoutMs: number, events: RegistrationEvents): Promise<ServingRegistration> {
    const deadline = Date.now() + connectTimeoutMs;
    for (;;) {
      try {
        const { connection, grants } = register(socket, mountPath, threads);
        return new ServingRegistration(socket, mountPath, threads, events, connection, grants);
      } catch (error) {
        if (!(error instanceof FsError) || error.errno !== ERRNO.ENOTCONN || Date.now() > deadline) throw error;
        await Bun.sleep(50);
      }
    }
  }

  /** What the serving Workers are started with. */
  get spec(): ClientSpec {
    return { mountPath: this.mountPath, board: this.board.shared };
  }

  /** While the service runs, nothing; once it is gone, registers with its successor and posts the new grants. */
  private watch(): void {
    if (this.connection?.probe()) {
      this.watcher?.keepOpen();
      return;
    }
    this.connection = null;
    if (Date.now() < this.nextTryAt) return;
    try {
      const { connection, grants } = register(this.socket, this.mountPath, this.threads);
      this.connection = connection;
      this.board.post(grants);
      this.problem = null;
      this.events.served();
    } catch (error) {
      const problem = error instanceof FsError ? error : new FsError(ERRNO.EIO, "register", this.mountPath);
      // No service yet (restarting): try again at the next tick; a service that refuses: a little later.
      if (problem.errno !== ERRNO.ENOTCONN) this.nextTryAt = Date.now() + RETRY_MS;
      if (problem.message !== this.problem) this.events.unserved(problem);
      this.problem = problem.message;
    }
  }

  /** Ends the registration (the router releases its buffers and descriptors) and stops renewing it. */
  close(): void {
    this.watcher?.close();
    clearInterval(this.timer);
    this.connection?.close();
    this.connection = null;
  }
}

/** The serving Worker's side: the mount's FileSystem through the grants posted for Worker `index`. */
export function openFileSystem(spec: ClientSpec, index: number): FileSystem {
  return new RenewingFileSystem(spec.board, spec.mountPath, index);
}
