/**
 * @module cluster — bringing the single-node cluster up, down, and reporting its status. `up` is idempotent: it
 * creates what does not exist yet (recorded in cluster.json), starts the daemons that are not running, and waits
 * until CephFS is writable. `down` stops every daemon this cluster started, by pid, the monitor last.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { clusterPaths, legacyPort, renderConf, type ClusterLayout, type Objectstore } from "./conf.ts";
import { ClusterError, livePid, run, startDaemon, stopDaemon, type Daemon } from "./daemons.ts";
import { ensurePackages } from "./packages.ts";

/** What `up` is asked for. */
export interface UpOptions {
  readonly dir: string;
  readonly objectstore: Objectstore;
  readonly monPort: number;
  /** Start a manager too (not needed for I/O; ~300 MB). */
  readonly mgr: boolean;
  /** Called with each phase's name and duration. */
  readonly report?: (phase: string, ms: number, detail?: string) => void;
}

/** What cluster.json records: the fixed facts of a created cluster and how far its creation got. */
interface ClusterState {
  fsid: string;
  monPort: number;
  objectstore: Objectstore;
  osdId?: string;
  osdUuid?: string;
  fsName?: string;
}

/** The CephFS file system name the script creates. */
export const FS_NAME = "cephfs";
const MON: Daemon = { type: "mon", id: "a" };
const MGR: Daemon = { type: "mgr", id: "x" };
const MDS: Daemon = { type: "mds", id: "a" };

function readState(file: string): ClusterState | null {
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, "utf8")) as ClusterState;
}

function writeState(file: string, state: ClusterState): void {
  writeFileSync(file, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
}

async function timed<T>(options: UpOptions, phase: string, body: () => T | Promise<T>, detail?: (value: T) => string): Promise<T> {
  const started = performance.now();
  const value = await body();
  options.report?.(phase, performance.now() - started, detail?.(value));
  return value;
}

async function ensureDaemon(paths: ReturnType<typeof clusterPaths>, d: Daemon): Promise<string> {
  const pid = livePid(paths.run, paths.conf, d);
  if (pid !== null) return `already running, pid ${pid}`;
  return `pid ${await startDaemon(paths.run, paths.conf, d)}`;
}

/** Waits until `check` returns true, polling; throws ClusterError with `what` after `timeoutMs`. */
async function until(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new ClusterError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(100);
  }
}

function ceph(conf: string, args: string[], timeoutMs = 30_000): string {
  return run(conf, ["ceph", "--connect-timeout", "10", ...args], timeoutMs);
}

/** Brings the cluster up (creating it on first use) and returns the path of its ceph.conf. */
export async function up(options: UpOptions): Promise<string> {
  const paths = clusterPaths(options.dir);
  await timed(options, "packages", () => ensurePackages(), (installed) => (installed.length ? `installed ${installed.join(" ")}` : "all present"));
  for (const d of [options.dir, paths.run, paths.log, paths.crash, paths.mon, paths.osd, paths.mds, paths.mgr]) mkdirSync(d, { recursive: true, mode: 0o700 });

  let state = readState(paths.state);
  if (state && (state.objectstore !== options.objectstore || state.monPort !== options.monPort)) {
    throw new ClusterError(
      `the cluster in ${options.dir} was created with objectstore ${state.objectstore} on port ${state.monPort}; ` +
        `run \`bun run ceph down --purge\` first to recreate it with ${options.objectstore} on port ${options.monPort}`,
    );
  }
  if (state === null) {
    state = { fsid: crypto.randomUUID(), monPort: options.monPort, objectstore: options.objectstore };
    writeState(paths.state, state);
  }
  const layout: ClusterLayout = {
    dir: options.dir,
    fsid: state.fsid,
    monPort: state.monPort,
    objectstore: state.objectstore,
    bluestoreBytes: 10 * 1024 ** 3,
    osdMemoryBytes: 1536 * 1024 ** 2,
  };
  writeFileSync(paths.conf, renderConf(layout), { mode: 0o644 });

  const monData = join(paths.mon, MON.id);
  if (!existsSync(join(monData, "store.db"))) {
    await timed(options, "mon mkfs", () => {
      rmSync(monData, { recursive: true, force: true });
      const addr = `[v2:127.0.0.1:${layout.monPort},v1:127.0.0.1:${legacyPort(layout.monPort)}]`;
      run(paths.conf, ["monmaptool", "--create", "--clobber", "--fsid", layout.fsid, "--addv", MON.id, addr, paths.monmap]);
      run(paths.conf, ["ceph-mon", "-c", paths.conf, "-i", MON.id, "--mkfs", "--monmap", paths.monmap, "--keyring", "/dev/null"]);
    });
  }
  await timed(options, "mon", () => ensureDaemon(paths, MON), (s) => s);
  await timed(options, "mon quorum", () => ceph(paths.conf, ["mon", "stat"]).trim().split("\n")[0] ?? "");
  if (options.mgr) await timed(options, "mgr", () => ensureDaemon(paths, MGR), (s) => s);

  if (state.osdId === undefined) {
    await timed(options, `osd mkfs (${layout.objectstore})`, () => {
      const uuid = crypto.randomUUID();
      const id = ceph(paths.conf, ["osd", "new", uuid]).trim();
      rmSync(join(paths.osd, id), { recursive: true, force: true });
      mkdirSync(join(paths.osd, id), { recursive: true, mode: 0o700 });
      run(paths.conf, ["ceph-osd", "-c", paths.conf, "-i", id, "--mkfs", "--osd-uuid", uuid], 120_000);
      state = { ...state!, osdId: id, osdUuid: uuid };
      writeState(paths.state, state);
    });
  }
  const osd: Daemon = { type: "osd", id: state.osdId! };
  await timed(options, "osd", () => ensureDaemon(paths, osd), (s) => s);

  if (state.fsName === undefined) {
    await timed(options, "cephfs create", () => {
      const pools = ceph(paths.conf, ["osd", "pool", "ls"]).split("\n");
      for (const pool of ["cephfs_metadata", "cephfs_data"]) {
        if (!pools.includes(pool)) ceph(paths.conf, ["osd", "pool", "create", pool, "8", "8"]);
      }
      if (!ceph(paths.conf, ["fs", "ls"]).includes(`name: ${FS_NAME},`)) ceph(paths.conf, ["fs", "new", FS_NAME, "cephfs_metadata", "cephfs_data"]);
      state = { ...state!, fsName: FS_NAME };
      writeState(paths.state, state);
    });
  }
  await timed(options, "mds", () => ensureDaemon(paths, MDS), (s) => s);
  await timed(options, "cephfs active", () => waitForActiveMds(paths.conf), (evicted) => (evicted ? "evicted stale client sessions" : ""));
  return paths.conf;
}

/**
 * Waits until the MDS is up:active. Client sessions left from before the cluster stopped (a killed service that had
 * named its session for reclaim) keep a restarted MDS in up:clientreplay until someone reclaims them; they cannot
 * belong to a live client of this cluster's previous run, so after a grace period they are evicted. Returns whether
 * it evicted.
 */
async function waitForActiveMds(conf: string): Promise<boolean> {
  const graceUntil = Date.now() + 10_000;
  let evicted = false;
  await until("the MDS to become up:active", 120_000, () => {
    const state = mdsState(conf);
    if (state.includes("up:active")) return true;
    if (!evicted && state.includes("up:clientreplay") && Date.now() > graceUntil) {
      try {
        ceph(conf, ["tell", `mds.${MDS.id}`, "client", "evict"], 30_000);
        evicted = true;
      } catch {
        // Try again on the next poll.
      }
    }
    return false;
  });
  return evicted;
}

function mdsState(conf: string): string {
  try {
    return ceph(conf, ["mds", "stat"], 10_000);
  } catch {
    return "";
  }
}

function mdsActive(conf: string): boolean {
  try {
    return ceph(conf, ["mds", "stat"], 10_000).includes("up:active");
  } catch {
    return false;
  }
}

/** Stops every daemon of the cluster (the monitor last); with `purge`, removes the whole directory too. */
export async function down(dir: string, purge: boolean, report?: UpOptions["report"]): Promise<void> {
  const paths = clusterPaths(dir);
  const state = readState(paths.state);
  const daemons: [Daemon, number][] = [[MDS, 0], [MGR, 5000]];
  if (state?.osdId !== undefined) daemons.push([{ type: "osd", id: state.osdId }, 10_000]);
  daemons.push([MON, 5000]);
  for (const [d, grace] of daemons) {
    const started = performance.now();
    const stopped = await stopDaemon(paths.run, paths.conf, d, grace);
    if (stopped) report?.(`stop ${d.type}.${d.id}`, performance.now() - started);
  }
  if (purge) rmSync(dir, { recursive: true, force: true });
}

/** One daemon's state. */
export interface DaemonStatus {
  readonly name: string;
  readonly pid: number | null;
}

/** What `status` reports. */
export interface ClusterStatus {
  readonly dir: string;
  readonly conf: string | null;
  readonly objectstore: Objectstore | null;
  readonly daemons: DaemonStatus[];
  /** True when the MDS is up:active (CephFS usable). */
  readonly usable: boolean;
}

/** The cluster's daemons and whether CephFS is usable, without changing anything. */
export function status(dir: string): ClusterStatus {
  const paths = clusterPaths(dir);
  const state = readState(paths.state);
  const all: Daemon[] = [MON, MGR, ...(state?.osdId !== undefined ? [{ type: "osd", id: state.osdId } as Daemon] : []), MDS];
  const daemons = all.map((d) => ({ name: `${d.type}.${d.id}`, pid: existsSync(paths.conf) ? livePid(paths.run, paths.conf, d) : null }));
  const monUp = daemons[0]!.pid !== null;
  return {
    dir,
    conf: existsSync(paths.conf) ? paths.conf : null,
    objectstore: state?.objectstore ?? null,
    daemons,
    usable: monUp && mdsActive(paths.conf),
  };
}
