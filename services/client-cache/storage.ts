/**
 * @module storage — a tenant's storage as the data path uses it: the backend client opened once per process (the
 * local directory, or one libcephfs mount of the tenant's root) and the shared cache over it, as plain data that
 * every service thread attaches to ({@link StorageShared}), giving one FileSystem instance per mount and thread.
 *
 * Isolation: a tenant's process mounts only its own `backend.root` (for cephfs, ceph_mount of that directory, so the
 * client cannot name anything above it), each mount instance is confined to its source below that, and the cache
 * lives in the tenant process's own memory, counted against its pool.
 */
import { join } from "node:path";
import type { BackendConfig, TenantConfig } from "../../kernel/config/index.ts";
import type { FileSystem } from "../ipc-router/protocol/index.ts";
import { CephBackend, CephMount, ensureCephDirectory, LocalBackend, type CephMountOptions, type CephShared } from "./backend/index.ts";

/**
 * libcephfs options danaus sets unless the tenant's `[backend.options]` says otherwise (see README "Consistency"):
 * libcephfs's own object cache is off, so data is cached once (in the tenant's cache) and a write the cache passes
 * down is on the OSDs when the call returns (with it on, a SIGKILL loses whatever it still buffered).
 */
export const DEFAULT_CEPH_OPTIONS: Readonly<Record<string, string>> = { client_oc: "false" };

/** How long the MDS waits for a silent session of a tenant service before evicting it (a restart evicts at once). */
const SESSION_TIMEOUT_SECONDS = 30;

/** The opened backend as plain data. */
export type BackendShared = { kind: "local"; root: string } | { kind: "cephfs"; mount: CephShared };

/** Everything a service thread needs to build the tenant's filesystem instances. */
export interface StorageShared {
  readonly backend: BackendShared;
}

function cephOptions(backend: Extract<BackendConfig, { kind: "cephfs" }>): Omit<CephMountOptions, "root"> {
  return {
    conf: backend.conf,
    clientId: backend.clientId,
    fsName: backend.fs,
    ...(backend.keyring !== undefined ? { keyring: backend.keyring } : {}),
    options: { ...DEFAULT_CEPH_OPTIONS, ...(backend.options ?? {}) },
  };
}

/** The tenant's storage, opened in this process. */
export class TenantStorage {
  private constructor(
    readonly shared: StorageShared,
    private readonly ceph: CephMount | null,
  ) {}

  /**
   * Opens `tenant`'s backend: for cephfs, creates the tenant root and the sources of its direct mounts when missing
   * (mode 0700) and mounts the root as the session `sessionName` — stable across restarts of the same service, so
   * the new mount evicts the session a killed predecessor left (its caps would stall other clients for a minute).
   * Throws CephMountError / FsError with what failed.
   */
  static open(tenant: TenantConfig, sessionName: string): TenantStorage {
    const backend = tenant.backend;
    if (backend.kind === "local") return new TenantStorage({ backend: { kind: "local", root: backend.root } }, null);
    const options = cephOptions(backend);
    ensureCephDirectory(options, backend.root);
    const mount = CephMount.open({ ...options, root: backend.root, sessionName, sessionTimeoutSeconds: SESSION_TIMEOUT_SECONDS });
    try {
      const root = new CephBackend(mount.shared, "");
      for (const m of tenant.mounts) if (m.kind === "direct" && m.source !== "") mkdirs(root, m.source);
      return new TenantStorage({ backend: { kind: "cephfs", mount: mount.shared } }, mount);
    } catch (error) {
      mount.close();
      throw error;
    }
  }

  /** Unmounts the backend. Threads must have stopped using it. */
  close(): void {
    this.ceph?.close();
  }
}

/** mkdir -p of `path` (relative to the backend's root) with mode 0700. */
function mkdirs(fs: FileSystem, path: string): void {
  let at = "";
  for (const part of path.split("/").filter((p) => p !== "" && p !== ".")) {
    at += `/${part}`;
    try {
      fs.mkdir(at, 0o700);
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    }
  }
}

/** The filesystem instance of the mount whose source is `source`, for the calling thread. */
export function attachMount(shared: StorageShared, source: string): FileSystem {
  const backend = shared.backend;
  if (backend.kind === "local") return new LocalBackend(join(backend.root, source));
  return new CephBackend(backend.mount, source);
}
