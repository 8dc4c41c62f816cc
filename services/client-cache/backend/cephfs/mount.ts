/**
 * @module mount — one process-wide libcephfs mount (ceph_create → conf → select fs → ceph_mount), shared by every
 * thread of the process through plain data ({@link CephShared}: numbers and a SharedArrayBuffer, passable to Workers
 * with postMessage), and {@link ensureCephDirectory} for preparing a tenant's root before mounting it.
 */
import { ERRNO } from "../../../ipc-router/protocol/index.ts";
import { CephMountError } from "./errors.ts";
import { HandleKind, HandleTable } from "./handle-table.ts";
import { address, libcephfs, type Address } from "./libcephfs.ts";
import { filesystemId, reclaimSession, selectFilesystem } from "./optional-symbols.ts";

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
  /** Further client options set with ceph_conf_set after the conf is read (`client_oc: "false"`...). */
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
}

const DEFAULT_MAX_HANDLES = 16384;
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
   * Creates a client, reads `conf`, applies `keyring` and `options`, selects `fsName` and mounts `root`. Blocks
   * the calling thread for the mount (tens of ms on a healthy cluster; up to `client_mount_timeout` when the
   * cluster is unreachable). Throws CephMountError (ENOENT when `root` does not exist, ETIMEDOUT, EINVAL for a bad
   * option...) or CephLibraryMissingError.
   */
  static open(options: CephMountOptions): CephMount {
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
      for (const [name, value] of Object.entries(options.options ?? {})) {
        step("ceph_conf_set", lib.ceph_conf_set(cmount, cstr(name), cstr(value)), `option ${name} = ${value}`);
      }
      if (options.fsName !== undefined) {
        step("ceph_select_filesystem", selectFilesystem(cmount, cstr(options.fsName)), `filesystem "${options.fsName}"`);
      }
      if (options.sessionName !== undefined) {
        const result = reclaimSession(cmount, cstr(options.sessionName), options.sessionTimeoutSeconds ?? 0);
        step("ceph_start_reclaim", result, `session "${options.sessionName}"`);
      }
      const root = options.root ?? "/";
      const started = performance.now();
      const which = `root "${root}" of filesystem ${options.fsName === undefined ? "(default)" : `"${options.fsName}"`} (${options.conf})`;
      step("ceph_mount", lib.ceph_mount(cmount, cstr(root)), `${which}; ENOENT: that root or filesystem does not exist`);
      const mountMs = performance.now() - started;
      const perms = lib.ceph_mount_perms(cmount);
      if (perms === null) throw new CephMountError("ceph_mount_perms", ERRNO.EIO, "no default credentials after mount");
      const fscid = filesystemId(cmount);
      const shared: CephShared = {
        pid: process.pid,
        mount: cmount,
        perms: address(perms),
        dev: fscid >= 0 ? DEV_BASE + fscid : DEV_BASE,
        table: HandleTable.allocateBuffer(options.maxHandles ?? DEFAULT_MAX_HANDLES),
      };
      return new CephMount(shared, Number(lib.ceph_get_instance_id(cmount)), mountMs);
    } catch (error) {
      lib.ceph_release(cmount);
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
   * handles are closed (their unwritten data flushed by ceph_ll_close), then ceph_unmount and ceph_release.
   * Idempotent. Must not be called from inside a backend call. Throws CephMountError if ceph_unmount fails (the
   * client is released anyway).
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
    const unmounted = lib.ceph_unmount(cmount);
    lib.ceph_release(cmount);
    if (unmounted < 0) throw new CephMountError("ceph_unmount", -unmounted, "the client was released anyway");
  }

  /** Same as {@link close} (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }
}
