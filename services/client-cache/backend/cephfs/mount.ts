/**
 * @module mount — one process-wide libcephfs mount (ceph_create → conf → select fs → ceph_mount), shared by every
 * thread of the process through plain data ({@link CephShared}: numbers and a SharedArrayBuffer, passable to Workers
 * with postMessage), and {@link ensureCephDirectory} for preparing a tenant's root before mounting it.
 */
import { ERRNO } from "../../../../kernel/ipc/protocol/index.ts";
import { CephMountError } from "./errors.ts";
import { HandleKind, HandleTable } from "./handle-table.ts";
import { address, libcephfs, type Address } from "./libcephfs.ts";
import { filesystemId, reclaimSession, selectFilesystem } from "./optional-symbols.ts";

/**
 * Client log options every mount starts from (a tenant's `[backend] options` override them): no in-memory debug log.
 * Ceph's defaults gather the client's messages up to level 5 in memory (to dump them on a crash), which formats every
 * call's messages and wakes the client's log thread on the tenant's core: a stat or close through the tenant service
 * cost 20–50 µs more with them (README, Consistency). ceph-fuse in the benchmarks runs with the same options
 * (bench/ceph-fuse.ts).
 */
export const QUIET_CLIENT_LOG: Readonly<Record<string, string>> = {
  debug_client: "0/0",
  debug_objecter: "0/0",
  debug_objectcacher: "0/0",
  debug_ms: "0/0",
};

/** How to reach and mount a CephFS. */
export interface CephMountOptions {
  /** Path of the ceph.conf to read (monitors, auth). */
  readonly conf: string;
  /** The client's id without the "client." prefix ("admin"). */
  readonly clientId: string;
  /** The CephFS to mount when the cluster has several; the cluster's default when omitted. */
  readonly fsName?: string;
  /** The directory of the filesystem to mount as this client's root ("/" when omitted); it must exist (ENOENT). */
  readonly root?: string;
  /** A keyring file, when the cluster requires cephx and the conf does not name one. */
  readonly keyring?: string;
  /**
   * Further client options set with ceph_conf_set after the conf is read (`client_oc: "false"`...), over
   * {@link QUIET_CLIENT_LOG}.
   */
  readonly options?: Readonly<Record<string, string>>;
  /** How many handles may be open at once over the whole process (default 16384; EMFILE beyond). */
  readonly maxHandles?: number;
  /**
   * A stable name for this client's session: a later mount with the same name (the restarted service) evicts the
   * session of the earlier one at once, instead of the MDS keeping its capabilities until the session times out.
   */
  readonly sessionName?: string;
  /** With `sessionName`: seconds the MDS waits for an unresponsive client of that name (0 = the cluster's default). */
  readonly sessionTimeoutSeconds?: number;
  /**
   * Whether to mount the second client that makes every rename replacing a file with other names (see
   * {@link CephShared.renamer}); default false, so tools and short-lived clients keep one session. The tenant
   * service's mount asks for it (client-cache/storage.ts). Without it such renames go through the first client,
   * whose cache can then answer ENOENT for the file's other names.
   */
  readonly renamer?: boolean;
}

/**
 * A mount as plain data, valid in every thread of the process that made it (addresses are process-local): pass it
 * to Workers with postMessage and build a `CephBackend` from it there.
 */
export interface CephShared {
  /** The process the addresses belong to. */
  readonly pid: number;
  /** `struct ceph_mount_info *`. */
  readonly mount: Address;
  /** The mount's default `UserPerm *` (the process's uid and gid). */
  readonly perms: Address;
  /** What `st_dev` reports for every file of this mount. */
  readonly dev: number;
  /** The handle table ({@link HandleTable}) shared by every backend of this mount. */
  readonly table: SharedArrayBuffer;
  /**
   * A second client on the same root, used only for a rename whose target is a file with other names, or null
   * (`renamer: false`). libcephfs (16.2) ends such a rename of its own by detaching every cached name of the
   * replaced inode (Client::put_request → _try_to_trim_inode), and then trusts those null entries while it holds
   * the directory's shared capability, so the file's other names answer ENOENT until the MDS revokes it. A rename
   * made by another client is seen through the MDS's revocations instead, which keep the other names intact.
   */
  readonly renamer: { readonly mount: Address; readonly perms: Address } | null;
}

const DEFAULT_MAX_HANDLES = 16384;
/** Appended to `sessionName` for the renamer's own session (reclaimed by a restarted service like the first). */
const RENAMER_SESSION_SUFFIX = ".renamer";
/** `st_dev` of a mount whose filesystem id is unknown; otherwise this plus the fscid (a made-up major number). */
const DEV_BASE = 0xcef0000;

/** A NUL-terminated C string. */
function cstr(text: string): Buffer {
  return Buffer.from(text + "\0");
}

/**
 * A mounted CephFS client. Open it once per process; give {@link shared} to every thread that builds backends on it;
 * {@link close} it after they are done.
 */
export class CephMount {
  /** The mount as plain data for `new CephBackend(shared, subRoot)` in any thread. */
  readonly shared: CephShared;
  /** The client's global id in the cluster (`client.<id>` in `ceph tell mds.* client ls`). */
  readonly instanceId: number;
  /** How long ceph_mount took, in ms. */
  readonly mountMs: number;
  private readonly table: HandleTable;
  private closed = false;

  private constructor(shared: CephShared, instanceId: number, mountMs: number) {
    this.shared = shared;
    this.instanceId = instanceId;
    this.mountMs = mountMs;
    this.table = new HandleTable(shared.table);
  }

  /**
   * Creates a client, reads `conf`, applies `keyring` and `options`, selects `fsName` and mounts `root`; then the
   * same for the renamer (with `renamer: true`). Blocks the calling thread for the mounts (tens of ms each on a
   * healthy cluster; up to `client_mount_timeout` when the cluster is unreachable). Throws CephMountError (ENOENT
   * when `root` does not exist, ETIMEDOUT, EINVAL for a bad option...) or CephLibraryMissingError.
   */
  static open(options: CephMountOptions): CephMount {
    const main = mountClient(options, options.sessionName);
    try {
      const renamerSession = options.sessionName === undefined ? undefined : options.sessionName + RENAMER_SESSION_SUFFIX;
      // A fixed admin socket path is the first client's; the renamer gets its own beside it.
      const socket = options.options?.admin_socket;
      const renamerOptions = socket === undefined || socket === "" ? options : { ...options, options: { ...options.options, admin_socket: `${socket}.renamer` } };
      const renamer = options.renamer !== true ? null : mountClient(renamerOptions, renamerSession);
      const fscid = filesystemId(main.cmount);
      const shared: CephShared = {
        pid: process.pid,
        mount: main.cmount,
        perms: main.perms,
        dev: fscid >= 0 ? DEV_BASE + fscid : DEV_BASE,
        table: HandleTable.allocateBuffer(options.maxHandles ?? DEFAULT_MAX_HANDLES),
        renamer: renamer === null ? null : { mount: renamer.cmount, perms: renamer.perms },
      };
      return new CephMount(shared, Number(libcephfs().ceph_get_instance_id(main.cmount)), main.mountMs);
    } catch (error) {
      unmountClient(main.cmount);
      throw error;
    }
  }

  /** The value of a client option as the mounted client sees it (ceph_conf_get); throws CephMountError (ENOENT). */
  option(name: string): string {
    const buffer = Buffer.alloc(4096);
    const result = libcephfs().ceph_conf_get(this.shared.mount, cstr(name), buffer, buffer.length);
    if (result < 0) throw new CephMountError("ceph_conf_get", -result, `option ${name}`);
    const end = buffer.indexOf(0);
    return buffer.toString("utf8", 0, end < 0 ? buffer.length : end);
  }

  /**
   * Unmounts: new calls of every backend on this mount fail with ENOTCONN, calls in flight are waited for, open
   * handles are closed (their unwritten data flushed by ceph_ll_close), then ceph_unmount and ceph_release of both
   * clients. Idempotent. Must not be called from inside a backend call. Throws CephMountError if ceph_unmount fails
   * (the client is released anyway).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const lib = libcephfs();
    const cmount = this.shared.mount;
    this.table.shut();
    for (const handle of this.table.openHandles()) {
      this.table.beginClose(handle, "close");
      const object = this.table.object(handle);
      if (this.table.kind(handle) === HandleKind.FILE) lib.ceph_ll_close(cmount, object);
      else lib.ceph_ll_releasedir(cmount, object);
      lib.ceph_ll_put(cmount, this.table.inode(handle));
      this.table.finishClose(handle);
    }
    const renamer = this.shared.renamer === null ? null : unmountElsewhere(this.shared.renamer.mount);
    const unmounted = unmountClient(cmount);
    const renamerUnmounted = renamer === null ? 0 : renamer();
    if (unmounted < 0) throw new CephMountError("ceph_unmount", -unmounted, "the client was released anyway");
    if (renamerUnmounted < 0) throw new CephMountError("ceph_unmount", -renamerUnmounted, "of the renamer; it was released anyway");
  }

  /** Same as {@link close} (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** A client created, configured and mounted by {@link mountClient}. */
interface MountedClient {
  readonly cmount: Address;
  readonly perms: Address;
  readonly mountMs: number;
}

/**
 * ceph_create → conf → keyring and options → filesystem → session `sessionName` (when given) → ceph_mount of
 * `options.root`. Releases the client and throws CephMountError on any failure.
 */
function mountClient(options: CephMountOptions, sessionName: string | undefined): MountedClient {
  const lib = libcephfs();
  const out = new BigUint64Array(1);
  const created = lib.ceph_create(out, cstr(options.clientId));
  if (created < 0) throw new CephMountError("ceph_create", -created, `client id "${options.clientId}"`);
  const cmount = address(out[0]!);
  try {
    const step = (call: string, result: number, detail: string): void => {
      if (result < 0) throw new CephMountError(call, -result, detail);
    };
    step("ceph_conf_read_file", lib.ceph_conf_read_file(cmount, cstr(options.conf)), `conf ${options.conf}`);
    if (options.keyring !== undefined) {
      step("ceph_conf_set", lib.ceph_conf_set(cmount, cstr("keyring"), cstr(options.keyring)), `keyring ${options.keyring}`);
    }
    for (const [name, value] of Object.entries({ ...QUIET_CLIENT_LOG, ...options.options })) {
      step("ceph_conf_set", lib.ceph_conf_set(cmount, cstr(name), cstr(value)), `option ${name} = ${value}`);
    }
    if (options.fsName !== undefined) {
      step("ceph_select_filesystem", selectFilesystem(cmount, cstr(options.fsName)), `filesystem "${options.fsName}"`);
    }
    if (sessionName !== undefined) {
      const result = reclaimSession(cmount, cstr(sessionName), options.sessionTimeoutSeconds ?? 0);
      step("ceph_start_reclaim", result, `session "${sessionName}"`);
    }
    const root = options.root ?? "/";
    const started = performance.now();
    const which = `root "${root}" of filesystem ${options.fsName === undefined ? "(default)" : `"${options.fsName}"`} (${options.conf})`;
    step("ceph_mount", lib.ceph_mount(cmount, cstr(root)), `${which}; ENOENT: that root or filesystem does not exist`);
    const mountMs = performance.now() - started;
    const perms = lib.ceph_mount_perms(cmount);
    if (perms === null) throw new CephMountError("ceph_mount_perms", ERRNO.EIO, "no default credentials after mount");
    return { cmount, perms: address(perms), mountMs };
  } catch (error) {
    lib.ceph_release(cmount);
    throw error;
  }
}

/** ceph_unmount and ceph_release of a mounted client; answers ceph_unmount's result (released either way). */
export function unmountClient(cmount: Address): number {
  const lib = libcephfs();
  const unmounted = lib.ceph_unmount(cmount);
  lib.ceph_release(cmount);
  return unmounted;
}

/**
 * The cell `unmount-worker.ts` and {@link unmountElsewhere} share (an Int32Array): STATE goes NOT_STARTED →
 * UNMOUNTING → DONE in the Worker, or NOT_STARTED → CLAIMED by the starter; RESULT is ceph_unmount's result.
 */
export const UNMOUNT_CELL = { STATE: 0, RESULT: 1, NOT_STARTED: 0, UNMOUNTING: 1, DONE: 2, CLAIMED: 3 } as const;

/** What {@link unmountElsewhere} posts to its Worker. */
export interface UnmountRequest {
  readonly cmount: Address;
  readonly cell: SharedArrayBuffer;
}

/** How long {@link unmountElsewhere}'s wait gives the Worker to begin before unmounting in its own thread. */
const UNMOUNT_START_TIMEOUT_MS = 10_000;

/**
 * Starts unmounting the client `cmount` in a Worker, so that it runs while the caller unmounts another client: an
 * unmount can wait up to a second for the client's tick (libcephfs puts some inodes only then), and two in a row
 * would take twice that from the time a service is given to stop. Returns a function that waits for it (blocking
 * the calling thread) and answers ceph_unmount's result; if the Worker has not begun within 10 s, that function
 * unmounts in the calling thread instead.
 */
function unmountElsewhere(cmount: Address): () => number {
  const { STATE, RESULT, NOT_STARTED, UNMOUNTING, DONE, CLAIMED } = UNMOUNT_CELL;
  const cell = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(new URL("./unmount-worker.ts", import.meta.url).href);
  worker.postMessage({ cmount, cell: cell.buffer } satisfies UnmountRequest);
  return () => {
    try {
      Atomics.wait(cell, STATE, NOT_STARTED, UNMOUNT_START_TIMEOUT_MS);
      if (Atomics.compareExchange(cell, STATE, NOT_STARTED, CLAIMED) === NOT_STARTED) return unmountClient(cmount);
      while (Atomics.load(cell, STATE) !== DONE) Atomics.wait(cell, STATE, UNMOUNTING);
      return Atomics.load(cell, RESULT);
    } finally {
      worker.terminate();
    }
  };
}
