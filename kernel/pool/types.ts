/** @module pool/types — the data a caller hands to and gets back from the pool manager. */

/** What a tenant's pool reserves: the cores its processes may run on and the memory they may use together. */
export interface PoolSpec {
  /** Tenant id; becomes the group's directory name, so it must be a plain name ([A-Za-z0-9_.-], not starting with "."). */
  tenant: string;
  /** Core ids the tenant's processes are pinned to (at least one; each must be a core the host's root cpuset holds). */
  cpus: number[];
  /** Memory limit in bytes for all of the tenant's processes together; beyond it the kernel OOM-kills one of them. */
  memoryBytes: number;
}

/** How pools can be made on this host, as found by `detectPoolSupport()`. */
export type PoolSupport =
  /** Legacy or hybrid host: separate cpuset and memory hierarchies, e.g. /sys/fs/cgroup/cpuset and /sys/fs/cgroup/memory. */
  | { kind: "cgroup-v1"; cpusetRoot: string; memoryRoot: string }
  /** Unified-only host: one hierarchy at `root` (usually /sys/fs/cgroup). */
  | { kind: "cgroup-v2"; root: string }
  /** Pools cannot be made; `reason` says why (not root, read-only cgroupfs, controllers missing, ...). */
  | { kind: "unavailable"; reason: string };

/** One tenant's pool, as returned by `PoolManager.create()`. */
export interface Pool {
  /** The spec the pool was made from. */
  readonly spec: PoolSpec;
  /** True when the pool is backed by cgroups; false when pools are unavailable and `wrap()` places nothing. */
  readonly pinned: boolean;
  /**
   * The argv to spawn instead of `argv` so the process enters the pool before it runs any code of its own:
   * `/bin/sh -c '<join each cgroup.procs or exit 97>; exec "$@"' danaus-pool ...argv`.
   * The spawned process keeps its pid through the exec. If joining fails it exits with `PLACEMENT_FAILED_EXIT`
   * without running `argv`. When unpinned, returns a copy of `argv` unchanged.
   */
  wrap(argv: string[]): string[];
  /** How many processes the kernel has OOM-killed in this pool so far; 0 when unpinned or unreadable. */
  oomKills(): number;
  /** Memory the pool's processes currently use, in bytes; null when unpinned or unreadable. */
  memoryUsage(): number | null;
  /**
   * Remove the pool's groups, retrying for a moment while exited processes leave them. Idempotent.
   * Rejects with `PoolError` if a group still holds processes after the retries.
   */
  remove(): Promise<void>;
}
