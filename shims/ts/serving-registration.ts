/**
 * @module serving-registration — a service process's registration with another service it serves from (fuse-legacy
 * with the tenant service, the ipc-router with union, union with client-cache): registered once, with one request
 * buffer (a {@link ThreadGrant}) per serving thread of the caller, posted on a {@link GrantBoard} that those threads
 * read without a message. When the service it reaches dies, the registration notices (the socket stops answering),
 * registers with its successor at the same socket and posts the new grants; the threads follow (see
 * renewing-file-system.ts).
 */
import { ERRNO, FsError } from "../../kernel/ipc/protocol/index.ts";
import type { MountEntry } from "../../kernel/ipc/server/index.ts";
import { Connection, type ThreadGrant } from "./connection.ts";
import { GrantBoard } from "./grant-board.ts";
import { HandleTable } from "./handle-names.ts";

/** What the serving threads are started with: the board their current grants are posted on, and a handle table. */
export interface ServingSpec {
  /** A {@link GrantBoard}'s buffer: one grant per serving thread, renewed after a restart of the service. */
  readonly board: SharedArrayBuffer;
  /** A {@link HandleTable} for the callers that keep handles in int32 (every thread of the process shares it). */
  readonly handles: SharedArrayBuffer;
}

/** What a registration tells its owner: its service serves again, or cannot serve now (and why). */
export interface ServingEvents {
  served(): void;
  unserved(problem: FsError): void;
}

/** How often the registration looks whether its service is still running, and retries a failed renewal. */
const WATCH_MS = 100;
/** Retry pause after a renewal failed while the service runs (e.g. it does not serve a mount, or has no buffer left). */
const RETRY_MS = 1000;

/**
 * Registers once with the service at `socket` and attaches a request buffer per serving thread; the service must
 * serve every path of `mountPaths`. Throws FsError.
 */
function register(socket: string, mountPaths: readonly string[], threads: number): { connection: Connection; grants: ThreadGrant[] } {
  const connection = Connection.open(socket);
  try {
    const missing = mountPaths.find((path) => !connection.mounts.some((m) => m.path === path));
    if (missing !== undefined) {
      const error = new FsError(ERRNO.ENOENT, "mount", missing);
      error.message = `ENOENT: the service at ${socket} does not serve ${missing} (served: ${connection.mounts.map((m) => m.path).join(", ") || "none"})`;
      throw error;
    }
    return { connection, grants: Array.from({ length: threads }, () => connection.attachThread()) };
  } catch (error) {
    connection.close();
    if (error instanceof FsError && error.syscall === "attach_thread" && error.errno === ERRNO.EAGAIN) {
      error.message = `EAGAIN: attach_thread: every request buffer of the tenant is in use at ${socket} (${threads} serving threads wanted)`;
    }
    throw error;
  }
}

/** A registration kept alive across restarts of the service it reaches. */
export class ServingRegistration {
  private readonly board = new GrantBoard();
  private readonly handles = HandleTable.allocate();
  private readonly timer: ReturnType<typeof setInterval>;
  private nextTryAt = 0;
  private problem: string | null = null;
  private served: readonly MountEntry[];

  private constructor(
    private readonly socket: string,
    private readonly mountPaths: readonly string[],
    private readonly threads: number,
    private readonly events: ServingEvents,
    private connection: Connection | null,
    grants: readonly ThreadGrant[],
  ) {
    this.board.post(grants);
    this.served = connection?.mounts ?? [];
    this.timer = setInterval(() => this.watch(), WATCH_MS);
    this.timer.unref?.();
  }

  /**
   * Registers with the service at `socket` (retrying while it starts, up to `connectTimeoutMs`) and attaches
   * `threads` request buffers. Throws FsError: ENOENT at once when the service does not serve one of `mountPaths`,
   * EAGAIN when it has no request buffer left, ENOTCONN when no service answered in time.
   */
  static async open(socket: string, mountPaths: readonly string[], threads: number, connectTimeoutMs: number, events: ServingEvents): Promise<ServingRegistration> {
    const deadline = Date.now() + connectTimeoutMs;
    for (;;) {
      try {
        const { connection, grants } = register(socket, mountPaths, threads);
        return new ServingRegistration(socket, mountPaths, threads, events, connection, grants);
      } catch (error) {
        if (!(error instanceof FsError) || error.errno !== ERRNO.ENOTCONN || Date.now() > deadline) throw error;
        await Bun.sleep(50);
      }
    }
  }

  /** What the serving threads are started with. */
  get spec(): ServingSpec {
    return { board: this.board.shared, handles: this.handles };
  }

  /** The mount table of the service, as it answered at the last registration. */
  get mounts(): readonly MountEntry[] {
    return this.served;
  }

  /** Whether the service answered at the last look. */
  get connected(): boolean {
    return this.connection !== null;
  }

  /** While the service runs, nothing; once it is gone, registers with its successor and posts the new grants. */
  private watch(): void {
    if (this.connection?.probe()) return;
    this.connection = null;
    if (Date.now() < this.nextTryAt) return;
    try {
      const { connection, grants } = register(this.socket, this.mountPaths, this.threads);
      this.connection = connection;
      this.served = connection.mounts;
      this.board.post(grants);
      this.problem = null;
      this.events.served();
    } catch (error) {
      const problem = error instanceof FsError ? error : new FsError(ERRNO.EIO, "register", this.socket);
      // No service yet (restarting): try again at the next tick; a service that refuses: a little later.
      if (problem.errno !== ERRNO.ENOTCONN) this.nextTryAt = Date.now() + RETRY_MS;
      if (problem.message !== this.problem) this.events.unserved(problem);
      this.problem = problem.message;
    }
  }

  /** Ends the registration (the service releases its buffers and descriptors) and stops renewing it. */
  close(): void {
    clearInterval(this.timer);
    this.connection?.close();
    this.connection = null;
  }
}
