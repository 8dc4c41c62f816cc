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
import type { FileSystem } from "../../kernel/ipc/protocol/index.ts";
import { CephBackend, CephMount, ensureCephDirectory, LocalBackend, type CephMountOptions, type CephShared } from "./backend/index.ts";
import { CachedFileSystem, cacheStats, SharedCache, startWriteBackThread, type CacheStats, type SharedCacheData, type WriteBackThread } from "./cache/index.ts";
import { createUnionShared, type RenameDir, UnionFileSystem, type UnionShared } from "../union/index.ts";

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
  /** The tenant's cache; null when `cache.size` is 0 (every call goes to the backend). */
  readonly cache: SharedCacheData | null;
  /** The union mounts' shared tables (directory handles). */
  readonly union: UnionShared;
  /**
   * How long the cache keeps attributes and names (default 1000 ms): at most the tenant's `[fuse] attrTimeoutMs`, so
   * a change made behind the service shows through every front end within that timeout (the kernel's cache, or the
   * preload library's, adds at most as much again); 0 keeps none.
   */
  readonly attrTimeoutMs?: number;
}

/** The cache's attribute timeout when the tenant's is longer (or not given). */
const CACHE_ATTR_TIMEOUT_MS = 1000;

/** What a mount serves: one backend directory, or a union of a writable upper over read-only lowers (top first). */
export type MountBranches =
  | { kind: "direct"; source: string }
  | { kind: "union"; upper: string; lowers: readonly string[]; renameDir?: RenameDir };

/**
 * The cache's id for the tenant's backend. Every instance of it (one per mount and thread) accepts the others'
 * handles and shares one (st_dev, st_ino) namespace, so a file reached through two mounts is cached once.
 */
const BACKEND_ID = 0;

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
    private readonly writeBack: WriteBackThread | null,
  ) {}

  /** The cache's counters (hits, misses, dirty bytes, write-backs, evictions...); null without a cache. */
  stats(): CacheStats | null {
    return this.shared.cache === null ? null : cacheStats(this.shared.cache);
  }

  /**
   * Opens `tenant`'s backend: for cephfs, creates the tenant root and the sources of its direct mounts when missing
   * (mode 0700) and mounts the root as the session `sessionName` — stable across restarts of the same service, so
   * the new mount evicts the session a killed predecessor left (its caps would stall other clients for a minute).
   * Throws CephMountError / FsError with what failed.
   */
  static async open(tenant: TenantConfig, sessionName: string, onError: (message: string) => void): Promise<TenantStorage> {
    const { backend, ceph } = openBackendClient(tenant, sessionName);
    try {
      const union = createUnionShared();
      const attrTimeoutMs = Math.min(CACHE_ATTR_TIMEOUT_MS, tenant.fuse.attrTimeoutMs);
      if (tenant.cache.sizeBytes === 0) return new TenantStorage({ backend, cache: null, union, attrTimeoutMs }, ceph, null);
      const cache = SharedCache.create(tenant.cache);
      const opener = { module: import.meta.url, exportName: "openBackendInstance", specs: { [BACKEND_ID]: backend } };
      const writeBack = startWriteBackThread(cache, opener, onError);
      await writeBack.ready;
      return new TenantStorage({ backend, cache, union, attrTimeoutMs }, ceph, writeBack);
    } catch (error) {
      ceph?.close();
      throw error;
    }
  }

  /** The backend paths among `paths` that are not directories (missing lower branches of a union mount). */
  missingDirectories(paths: readonly string[]): string[] {
    const root = openBackendInstance(this.shared.backend);
    try {
      return paths.filter((path) => {
        try {
          return (root.stat(path).st_mode & 0o170000) !== 0o040000;
        } catch {
          return true;
        }
      });
    } finally {
      (root as { dispose?: () => void }).dispose?.();
    }
  }

  /** Writes back every dirty block, stops the write-back thread and unmounts the backend. Threads must have stopped. */
  async close(): Promise<void> {
    await this.writeBack?.stop({ flush: true });
    this.ceph?.close();
  }
}

/** Opens the backend client of `tenant` (see {@link TenantStorage.open}). */
function openBackendClient(tenant: TenantConfig, sessionName: string): { backend: BackendShared; ceph: CephMount | null } {
  const backend = tenant.backend;
  if (backend.kind === "local") {
    const root = new LocalBackend(backend.root);
    try {
      prepareMountDirectories(root, tenant);
    } finally {
      root.dispose();
    }
    return { backend: { kind: "local", root: backend.root }, ceph: null };
  }
  const options = cephOptions(backend);
  ensureCephDirectory(options, backend.root);
  // The renamer keeps a file's other names visible after a rename replaces one of them (see CephShared.renamer).
  const mount = CephMount.open({ ...options, root: backend.root, sessionName, sessionTimeoutSeconds: SESSION_TIMEOUT_SECONDS, renamer: true });
  try {
    prepareMountDirectories(new CephBackend(mount.shared, ""), tenant);
    return { backend: { kind: "cephfs", mount: mount.shared }, ceph: mount };
  } catch (error) {
    mount.close();
    throw error;
  }
}

/**
 * Creates every direct mount's source and every union mount's upper that is missing: parents 0700, the directory
 * itself 0755, because it is the root directory of the mount (a container's `/`, which the
 * container's non-root users must be able to search). The tenant's backend root (0700) keeps other tenants out.
 */
function prepareMountDirectories(root: FileSystem, tenant: TenantConfig): void {
  for (const m of tenant.mounts) {
    const path = m.kind === "direct" ? m.source : m.upper;
    if (path !== "") mkdirs(root, path);
  }
}

/** mkdir -p of `path` (relative to the backend's root): parents with mode 0700, the last directory 0755. */
function mkdirs(fs: FileSystem, path: string): void {
  let at = "";
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  for (const [i, part] of parts.entries()) {
    at += `/${part}`;
    try {
      fs.mkdir(at, i === parts.length - 1 ? 0o755 : 0o700);
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    }
  }
}

/** A backend instance at the backend's root, for the write-back thread (it only uses handles the mounts opened). */
export function openBackendInstance(backend: BackendShared): FileSystem {
  return backend.kind === "local" ? new LocalBackend(backend.root) : new CephBackend(backend.mount, "");
}

/** The filesystem instance of the backend directory `path`, for the calling thread: the cache over the backend. */
function attachBranch(shared: StorageShared, path: string): FileSystem {
  const backend = shared.backend;
  const inner = backend.kind === "local" ? new LocalBackend(join(backend.root, path)) : new CephBackend(backend.mount, path);
  if (shared.cache === null) return inner;
  return new CachedFileSystem(inner, SharedCache.attach(shared.cache), BACKEND_ID, { attrTimeoutMs: shared.attrTimeoutMs ?? CACHE_ATTR_TIMEOUT_MS });
}

/**
 * The filesystem instance of a mount, for the calling thread. A union mount stacks the union directly on its
 * branches' instances (function calls, no process hop); every branch goes through the one tenant cache, so a lower
 * file shared by many clones is cached once.
 */
export function attachMount(shared: StorageShared, branches: MountBranches): FileSystem {
  if (branches.kind === "direct") return attachBranch(shared, branches.source);
  const upper = attachBranch(shared, branches.upper);
  const lowers = branches.lowers.map((lower) => attachBranch(shared, lower));
  return new UnionFileSystem({ upper, lowers }, shared.union, branches.renameDir === undefined ? {} : { renameDir: branches.renameDir });
}
