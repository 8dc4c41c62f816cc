/** @module pool/manager — PoolManager: makes, tracks and removes the tenant pools of one supervisor instance. */
import { basename, join } from "node:path";
import { childGroups, groupPids, isGroup, makeGroup, removeGroup, removeGroupSync } from "./cgroup-fs.ts";
import { CgroupV1 } from "./cgroup-v1.ts";
import { CgroupV2 } from "./cgroup-v2.ts";
import type { CgroupFlavour } from "./flavour.ts";
import { buildPlacementArgv } from "./placement.ts";
import { PoolError } from "./pool-error.ts";
import { checkPoolSpec, isValidGroupName } from "./spec.ts";
import type { Pool, PoolSpec, PoolSupport } from "./types.ts";

/**
 * Creates and removes the pools of one supervisor instance. Its groups live under `danaus.<instance>/<tenant>` in each
 * hierarchy of `support`; with `{ kind: "unavailable" }` every pool is unpinned and nothing on the host is touched.
 * Throws RangeError when `instance` is not a plain name ([A-Za-z0-9_.-], not starting with ".").
 */
export class PoolManager {
  /** How this manager makes pools, as given to the constructor. */
  readonly support: PoolSupport;
  readonly #flavour: CgroupFlavour | null;
  readonly #pools = new Map<string, CgroupPool>();

  constructor(instance: string, support: PoolSupport) {
    if (!isValidGroupName(instance)) {
      throw new RangeError(`invalid pool instance name "${instance}": use 1-200 characters of [A-Za-z0-9_.-], not starting with "."`);
    }
    this.support = support;
    this.#flavour =
      support.kind === "cgroup-v1"
        ? new CgroupV1(instance, support.cpusetRoot, support.memoryRoot)
        : support.kind === "cgroup-v2"
          ? new CgroupV2(instance, support.root)
          : null;
  }

  /**
   * Make the tenant's group(s) and apply the spec's cpus and memory limit; returns the pool to `wrap()` commands with.
   * A group left over under the same name (a crashed run, or an earlier `create` of this tenant) is removed and made
   * afresh, so counters start at zero; it is never killed: if it still holds processes, this throws PoolError listing
   * them. Also throws PoolError for an invalid spec, cpus the host does not have (EINVAL), a read-only or full
   * cgroupfs. When pools are unavailable, returns an unpinned pool whose `wrap()` leaves argv unchanged.
   */
  create(spec: PoolSpec): Pool {
    const flavour = this.#flavour;
    if (flavour === null) return new UnpinnedPool(checkPoolSpec(spec, ""));
    const checked = checkPoolSpec(spec, join(flavour.instanceDirs[0]!, String(spec.tenant)));
    const tenant = checked.tenant;
    const dirs = flavour.instanceDirs.map((dir) => join(dir, tenant));
    for (const dir of dirs) {
      const pids = isGroup(tenant, dir) ? groupPids(dir) : [];
      if (pids.length > 0) {
        throw new PoolError(`cannot re-create pool "${tenant}": ${dir} still holds processes ${pids.join(", ")}; stop them first`, {
          tenant,
          path: dir,
          code: "EBUSY",
        });
      }
    }
    const previous = this.#pools.get(tenant);
    if (previous?.removing === true) {
      throw new PoolError(`cannot re-create pool "${tenant}" while its remove() is still running: await it first`, {
        tenant,
        path: dirs[0]!,
        code: "EBUSY",
      });
    }
    previous?.retire();
    this.#pools.delete(tenant);
    flavour.prepareInstance(tenant);
    for (const dir of dirs) removeGroupSync(tenant, dir);
    try {
      for (const dir of dirs) makeGroup(tenant, dir);
      flavour.configureTenant(checked, dirs);
    } catch (error) {
      for (const dir of dirs) {
        try {
          removeGroupSync(tenant, dir);
        } catch {
          // The configuration error is the one worth reporting; removeAll() retries the leftovers.
        }
      }
      throw error;
    }
    const pool = new CgroupPool(checked, dirs, flavour, () => {
      if (this.#pools.get(tenant) === pool) this.#pools.delete(tenant);
    });
    this.#pools.set(tenant, pool);
    return pool;
  }

  /**
   * Remove every tenant group of this instance (those this manager made and any left over from a crashed run under the
   * same instance name), then the `danaus.<instance>` directories. Waits a moment for exited processes to leave.
   * Tries everything, then rejects with the first PoolError if some group still holds processes or cannot be removed.
   */
  async removeAll(): Promise<void> {
    const flavour = this.#flavour;
    if (flavour === null) return;
    const errors: PoolError[] = [];
    for (const pool of [...this.#pools.values()]) {
      await pool.remove().catch((error: unknown) => errors.push(asPoolError(error, pool.spec.tenant)));
    }
    // Then whatever a crashed run under the same instance name left, skipping groups that just failed above.
    const failed = new Set(errors.map((error) => error.tenant));
    for (const instanceDir of flavour.instanceDirs) {
      for (const dir of childGroups(instanceDir).filter((child) => !failed.has(basename(child)))) {
        await removeGroup(basename(dir), dir).catch((error: unknown) => errors.push(asPoolError(error, basename(dir))));
      }
    }
    // A parent with a child left cannot go; its removal would only wait out the retries and fail again.
    if (errors.length === 0) {
      for (const instanceDir of flavour.instanceDirs) {
        await removeGroup("", instanceDir).catch((error: unknown) => errors.push(asPoolError(error, "")));
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

/** `error` as a PoolError: removal only throws PoolError, anything else is wrapped to keep the rejection typed. */
function asPoolError(error: unknown, tenant: string): PoolError {
  return error instanceof PoolError ? error : new PoolError(`cannot remove pool "${tenant}": ${String(error)}`, { tenant, path: "", cause: error });
}

/** A pool backed by cgroups: one tenant group per hierarchy of the flavour. */
class CgroupPool implements Pool {
  readonly spec: PoolSpec;
  readonly pinned = true;
  readonly #dirs: readonly string[];
  readonly #procsFiles: readonly string[];
  readonly #flavour: CgroupFlavour;
  readonly #onRemoved: () => void;
  #removing: Promise<void> | null = null;
  /** True once the groups are removed, or once a later `create` of the same tenant took them over. */
  #gone = false;

  constructor(spec: PoolSpec, dirs: readonly string[], flavour: CgroupFlavour, onRemoved: () => void) {
    this.spec = spec;
    this.#dirs = dirs;
    this.#procsFiles = dirs.map((dir) => join(dir, "cgroup.procs"));
    this.#flavour = flavour;
    this.#onRemoved = onRemoved;
  }

  wrap(argv: string[]): string[] {
    return buildPlacementArgv(this.#procsFiles, argv);
  }

  oomKills(): number {
    return this.#gone ? 0 : (this.#flavour.oomKills(this.#dirs) ?? 0);
  }

  memoryUsage(): number | null {
    return this.#gone ? null : this.#flavour.memoryUsage(this.#dirs);
  }

  remove(): Promise<void> {
    if (this.#gone) return Promise.resolve();
    this.#removing ??= this.#removeGroups();
    return this.#removing;
  }

  /** True while a remove() is waiting for the groups to empty. */
  get removing(): boolean {
    return this.#removing !== null;
  }

  /** Forget the groups without touching them: a newer pool of the same tenant now owns those paths. */
  retire(): void {
    this.#gone = true;
  }

  async #removeGroups(): Promise<void> {
    try {
      for (const dir of this.#dirs) await removeGroup(this.spec.tenant, dir);
      this.#gone = true;
      this.#onRemoved();
    } finally {
      this.#removing = null;
    }
  }
}

/** The pool handed out when the host cannot make pools: places nothing and reports nothing. */
class UnpinnedPool implements Pool {
  readonly spec: PoolSpec;
  readonly pinned = false;

  constructor(spec: PoolSpec) {
    this.spec = spec;
  }

  wrap(argv: string[]): string[] {
    return [...argv];
  }

  oomKills(): number {
    return 0;
  }

  memoryUsage(): number | null {
    return null;
  }

  remove(): Promise<void> {
    return Promise.resolve();
  }
}
