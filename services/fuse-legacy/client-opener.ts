/**
 * @module client-opener — what the FUSE serving Workers serve in fuse-legacy's own process: the tenant's mount reached
 * through the shared-memory client of the tenant service, so the kernel path and the user-level path share one
 * service, one cache and one view. The main thread registers once per FUSE mount ({@link MountRegistration}, a
 * {@link ServingRegistration} of the tenant's client library) and hands each serving Worker a thread grant of that
 * registration, so a file opened by one Worker is a descriptor of the same client in all of them. When the tenant
 * service restarts, the registration renews itself and posts the new grants; the Workers follow.
 */
import type { FileSystem } from "../../kernel/ipc/protocol/index.ts";
import { RenewingFileSystem, ServingRegistration, type ServingEvents } from "../../shims/ts/index.ts";
import { ChangeWatcher, type OnChanged } from "./change-watcher.ts";

/** What the serving Workers of a FUSE mount serve: which mount, and the board its current grants are posted on. */
export interface ClientSpec {
  /** The mount point, as in the tenant's mount table. */
  readonly mountPath: string;
  /** A grant board's buffer: one grant per serving Worker, renewed after a restart of the tenant service. */
  readonly board: SharedArrayBuffer;
}

/** How often the change watcher's connection is looked at (and reopened after a restart of the tenant service). */
const WATCH_MS = 100;

/**
 * What a registration tells its owner: the mount is served again, or cannot be served now (and why); and, when it
 * listens, which files clients of other processes wrote through the tenant service, and which names of the mount they
 * changed (to drop what the kernel cached).
 */
export interface RegistrationEvents extends ServingEvents {
  changed?: OnChanged;
}

/** The registration of the fuse-legacy process for one FUSE mount, kept alive across restarts of the tenant service. */
export class MountRegistration {
  private readonly timer: ReturnType<typeof setInterval> | undefined;

  private constructor(
    private readonly registration: ServingRegistration,
    private readonly mountPath: string,
    /** Hears which files other processes wrote (when `events.changed` listens). */
    private readonly watcher: ChangeWatcher | undefined,
  ) {
    this.watcher?.keepOpen();
    if (watcher !== undefined) {
      this.timer = setInterval(() => registration.connected && watcher.keepOpen(), WATCH_MS);
      this.timer.unref?.();
    }
  }

  /**
   * Registers with the tenant service at `socket` (retrying while it starts, up to `connectTimeoutMs`) and attaches
   * `threads` request buffers for the serving Workers. Throws FsError: ENOENT at once when the service does not serve
   * `mountPath` (e.g. a union mount whose image is missing), EAGAIN when the tenant has no request buffer left,
   * ENOTCONN when no service answered in time.
   */
  static async open(socket: string, mountPath: string, threads: number, connectTimeoutMs: number, events: RegistrationEvents): Promise<MountRegistration> {
    const registration = await ServingRegistration.open(socket, [mountPath], threads, connectTimeoutMs, events);
    const watcher = events.changed === undefined ? undefined : new ChangeWatcher(socket, mountPath, events.changed);
    return new MountRegistration(registration, mountPath, watcher);
  }

  /** What the serving Workers are started with. */
  get spec(): ClientSpec {
    return { mountPath: this.mountPath, board: this.registration.spec.board };
  }

  /** Ends the registration (the router releases its buffers and descriptors) and stops renewing it. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.watcher?.close();
    this.registration.close();
  }
}

/** The serving Worker's side: the mount's FileSystem through the grants posted for Worker `index`. */
export function openFileSystem(spec: ClientSpec, index: number): FileSystem {
  return new RenewingFileSystem(spec.board, spec.mountPath, index);
}
