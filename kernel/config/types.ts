/** @module types — the resolved configs the rest of danaus uses: every default applied, every path absolute. */
import type { RestartType, ServiceName } from "./schema.ts";

/** Where a tenant's files live. */
export type BackendConfig =
  | { kind: "local"; root: string }
  | { kind: "cephfs"; conf: string; fs: string; root: string; clientId: string; keyring?: string; options?: Record<string, string> };

/**
 * A mount point: a backend path, or a union of one rw upper over ordered ro lowers (top first). A union's
 * `renameDir` is present only when the tenant file sets it (absent: "copy-up", see `UnionOptions`).
 */
export type MountConfig =
  | { path: string; kind: "direct"; source: string; legacy: boolean }
  | { path: string; kind: "union"; upper: string; lowers: string[]; legacy: boolean; renameDir?: "copy-up" | "exdev" };

/** The client cache of one tenant service. */
export interface CacheConfig {
  sizeBytes: number;
  maxDirtyBytes: number;
  blockSizeBytes: number;
  writebackMs: number;
  expireMs: number;
  writeback: "async" | "sync";
}

/** The restart policy of a tenant's services. */
export interface RestartConfig {
  strategy: "one_for_one" | "one_for_all" | "rest_for_one";
  intensity: number;
  periodMs: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  shutdownMs: number;
  services: Record<ServiceName, RestartType>;
}

/** A tenant, fully resolved. */
export interface TenantConfig {
  name: string;
  /** The file it was read from. */
  file: string;
  cpus: number[];
  shareCpus: boolean;
  /** The user and group the tenant's services run as; null: the supervisor's own. */
  user: { uid: number; gid: number } | null;
  memoryBytes: number;
  backend: BackendConfig;
  cache: CacheConfig;
  mounts: MountConfig[];
  /** The kernel path's page-cache use, serving Workers per mount and node-table size per mount. */
  fuse: { directIo: boolean; attrTimeoutMs: number; entryTimeoutMs: number; negativeTimeoutMs: number; threads: number; maxNodes: number };
  /** Most directory streams one client may hold open at once (EMFILE past it). */
  maxDirStreams: number;
  /** A request in service this long holds its thread: listed in status, and another thread is added if all are held. */
  heldRequestMs: number;
  /** Process groups in start order; each group is one process running those services. */
  topology: ServiceName[][];
  restart: RestartConfig;
}

/** The host config, fully resolved. */
export interface HostConfig {
  file: string;
  instance: string;
  stateDir: string;
  tenantsDir: string;
  controlSocket: string;
  heartbeatMs: number;
  hungAfterMs: number;
  startTimeoutMs: number;
}
