/**
 * @module preload — `bun run bench preload`: unmodified fio through the LD_PRELOAD library (shims/preload) on a
 * non-legacy mount of a tenant, against the same tenant's legacy FUSE mount of the same backend directory, ceph-fuse on
 * the project's cluster, and the host's own file systems, with the same fio jobs for all: 1 MiB sequential write and
 * read, 4 KiB random read/write 50/50 (psync), create/stat/unlink of small files. The tenant runs twice (two
 * supervisors), on the local backend and (when the cluster is up) on CephFS; its services run on core 0. fio through
 * the library runs in two placements: as `danaus run --tenant alpha -- fio …` (in the tenant's pool, so on core 0
 * beside its service) and with the library preloaded by hand on core 1, where fio runs for every other target. Every
 * job group runs on every target in turn, three rounds, and each figure is the median of its rounds. Last, the cost
 * the library adds to calls that go to the kernel (preload-calls.ts). Needs root and /dev/fuse; the cluster is
 * optional (`bun run ceph up`, or DANAUS_CEPH_CONF / DANAUS_CEPH_DIR naming a running one).
 *
 * On CephFS two more targets give the metadata jobs' floor (preload-floor.ts): the loops of fio's create, stat and
 * unlink engines run in one process on core 0 with no IPC, on the project's cephfs backend alone ("floor: backend") and
 * on the tenant's cache over it ("floor: cache + backend"), as a libcephfs client of their own in the tenant's root.
 *
 * preload.json: `rows` has one entry per target (`figures`: job → median of the rounds; `rounds`: job → every round's
 * figure); a floor row has the three metadata jobs only. `ratios` has one entry per preload placement and job:
 * `vsFuse`, `vsCephFuse` (cephfs only) and `vsFloor` (the preload figure ÷ the "floor: backend" figure; cephfs
 * metadata jobs only, else null). `floor` lists, for each metadata job, every cephfs row's figure ÷ the backend
 * floor's.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { DEFAULT_CLUSTER_DIR, status } from "../scripts/ceph/index.ts";
import { routerSocketPath } from "../services/ipc-router/index.ts";
import { preloadLibrary } from "../kernel/cli/run.ts";
import { mountCephFuse } from "./ceph-fuse.ts";
import { BENCH_TENANT, cephTenantToml, legacyMountToml, startDanausTenant, type DanausTenant } from "./danaus-tenant.ts";
import { FIO_CPU, fioJobs, runFio, type FioJob, type FioLaunch } from "./fuse-fio.ts";
import { runFloor, type FloorStack } from "./preload-floor.ts";
import { ADDED_NS_TARGET, runCallsPart, runMountStatPart, type CallsPart, type StatPart, type StatPoint } from "./preload-calls.ts";
import { printTable } from "./stats.ts";

const ROOT = resolve(import.meta.dir, "..");
/** The tenant's services (and each ceph-fuse daemon) get core 0. */
const SERVICE_CPUS = [0];
/** Small files and short jobs: the machine has two cores shared with other work. */
const SIZES = { seq: "64M", rand: "64M", randSeconds: Number(process.env.DANAUS_BENCH_PRELOAD_SECONDS ?? 5), metaFiles: 2000 };
/** Rounds over every target; each figure is the median of the rounds. */
const ROUNDS = Number(process.env.DANAUS_BENCH_PRELOAD_ROUNDS ?? 3);
/**
 * DANAUS_BENCH_ONLY=calls runs only the added cost on kernel-bound calls (a local tenant, no fio, nothing written);
 * DANAUS_BENCH_ONLY=stat, the stat part and the call costs (see ONLY_STAT).
 */
const ONLY = process.env.DANAUS_BENCH_ONLY;
const JOBS = fioJobs(SIZES);
/** The jobs the 2× targets are about. */
const TARGET_JOBS = ["4k randrw 50/50", "create 4k", "stat", "unlink"];
const SPEEDUP_TARGET = 2;
/** DANAUS_BENCH_ONLY=stat: the stat part and the call costs only (no fio; the last fio results stay in the JSON). */
const ONLY_STAT = ONLY === "stat";

/** The two ways fio runs through the library. */
const PRELOAD_POOL = "preload (danaus run, core 0)";
const PRELOAD_CORE1 = "preload (fio on core 1)";
const FUSE = "FUSE legacy mount";
/** The library built without its attribute cache (-DDANAUS_NO_ATTR_CACHE): every stat asks the service. */
const PRELOAD_NO_CACHE = "preload, no attribute cache (fio on core 1)";
/** The file the stat part times, in each target's directory. */
const STAT_FILE = "stat-file";
const CEPH_FUSE = "ceph-fuse";
/** The metadata floor (cephfs only): the same loops in one process, no IPC. */
const FLOOR: Record<FloorStack, string> = { backend: "floor: backend (in process, no IPC)", cache: "floor: cache + backend (in process, no IPC)" };
const META_JOBS = ["create 4k", "stat", "unlink"];

/** One place fio runs: a directory and how fio is started there. */
interface Target {
  readonly backend: string;
  readonly name: string;
  readonly dir: string;
  readonly launch: FioLaunch;
  /** The same directory as the kernel sees it (made before the first job, removed after the last); null for a floor. */
  readonly kernelDir: string | null;
  /** Measures a whole job group itself instead of fio (the floor): job name → figure; null for a group it does not run. */
  readonly measureGroup?: (jobs: readonly FioJob[]) => Record<string, number> | null;
}

/** What one target measured: job name → figure (the median of the rounds), and every round's figure. */
interface Row {
  backend: string;
  target: string;
  figures: Record<string, number>;
  rounds: Record<string, number[]>;
}

/** One speed-up of a preload row over a peer. */
interface Ratio {
  backend: string;
  preload: string;
  job: string;
  vsFuse: number;
  vsCephFuse: number | null;
  /** preload ÷ the backend floor (cephfs metadata jobs; null otherwise). */
  vsFloor: number | null;
  met: boolean;
}

const ratio = (a: number, b: number) => +(a / b).toFixed(2);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
};

/** A non-legacy `[[mounts]]` table: only the preload library and the TypeScript client see it. */
const preloadMountToml = (path: string) => `[[mounts]]\npath = ${JSON.stringify(path)}\nsource = "data"`;

/** The tenant file on the local backend (a directory under the supervisor's state dir, on the host's /tmp). */
function localTenantToml(mounts: readonly string[]): string {
  return [`name = "${BENCH_TENANT}"`, `cpus = [${SERVICE_CPUS.join(", ")}]`, `memory = "1GiB"`, `[backend]`, `kind = "local"`, `root = "backends/${BENCH_TENANT}"`, ...mounts].join("\n");
}

/** A running bench tenant and its three targets. */
interface DanausSide {
  readonly targets: Target[];
  readonly socket: string;
  readonly privateMount: string;
  close(): Promise<void>;
}

/**
 * Starts a supervisor with the tenant on `backend`: a non-legacy mount (for the library) and a legacy mount of the same
 * backend directory. Its targets: fio through the library in both placements, and fio on the FUSE mount.
 */
async function danausSide(backend: string, toml: (mounts: string[]) => string): Promise<DanausSide> {
  const base = mkdtempSync(join(tmpdir(), `danaus-bench-preload-${backend}-`));
  // fuse-legacy makes the mount point (and removes it at stop): one made here would stay sealed immutable.
  const legacy = join(base, "fuse");
  // No kernel process sees this path: it does not exist on the host.
  const privateMount = join("/mnt", `danaus-bench-preload-${process.pid}-${backend}`);
  if (existsSync(privateMount)) throw new Error(`${privateMount} exists on the host; the bench needs a mount point the kernel does not have`);
  const tenant: DanausTenant = await startDanausTenant(toml([preloadMountToml(privateMount), legacyMountToml(legacy, `source = "data"`)]), [legacy], [base]);
  const h = tenant.harness;
  const socket = routerSocketPath(join(h.dir, "state", "run", BENCH_TENANT));
  const library = preloadLibrary();
  // The directories are made (and removed) through the legacy mount: the same backend directory.
  const targets: Target[] = [
    {
      backend,
      name: PRELOAD_POOL,
      dir: join(privateMount, "pool"),
      kernelDir: join(legacy, "pool"),
      launch: { prefix: [process.execPath, join(ROOT, "kernel/cli/main.ts"), "run", "--tenant", BENCH_TENANT, "--config", h.hostFile, "--"] },
    },
    { backend, name: PRELOAD_CORE1, dir: join(privateMount, "core1"), kernelDir: join(legacy, "core1"), launch: { prefix: ["taskset", "-c", String(FIO_CPU)], env: { LD_PRELOAD: library, DANAUS_SOCKET: socket } } },
    { backend, name: FUSE, dir: join(legacy, "fuse"), kernelDir: join(legacy, "fuse"), launch: {} },
  ];
  return { targets, socket, privateMount, close: () => tenant.close() };
}

/** A host directory target (made in `parent`). */
function hostTarget(name: string, parent: string): Target {
  const dir = join(parent, `danaus-bench-preload-host-${process.pid}`);
  return { backend: "host", name, dir, kernelDir: dir, launch: {} };
}

/** Jobs that must run back to back on one target: the read reads what the write left; create, stat, unlink share files. */
const GROUPS: readonly (readonly string[])[] = [["seq write 1M", "seq read 1M"], ["4k randrw 50/50"], ["create 4k", "stat", "unlink"]];

/**
 * Runs every job group on every target in turn, {@link ROUNDS} times, so that the targets' figures for one job are
 * taken minutes apart at most on this shared machine; returns the medians of the rounds.
 */
function measureAll(targets: readonly Target[]): Row[] {
  const rows: Row[] = targets.map((t) => ({ backend: t.backend, target: t.name, figures: {}, rounds: Object.fromEntries(JOBS.map((j) => [j.name, [] as number[]])) }));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const group of GROUPS) {
      const jobs = group.map((name) => JOBS.find((j) => j.name === name)!);
      targets.forEach((target, i) => {
        if (target.measureGroup) {
          process.stderr.write(`  round ${round}/${ROUNDS} ${target.backend} / ${target.name}: ${group.join(", ")}\n`);
          const figures = target.measureGroup(jobs);
          if (figures !== null) for (const job of jobs) rows[i]!.rounds[job.name]!.push(figures[job.name]!);
          return;
        }
        for (const job of jobs) {
          process.stderr.write(`  round ${round}/${ROUNDS} ${target.backend} / ${target.name}: ${job.name}\n`);
          rows[i]!.rounds[job.name]!.push(runFio(target.dir, job, target.launch).figure);
        }
      });
    }
  }
  for (const row of rows) {
    for (const job of JOBS) {
      const rounds = row.rounds[job.name]!;
      if (rounds.length > 0) row.figures[job.name] = median(rounds);
      else delete row.rounds[job.name];
    }
  }
  return rows;
}

/**
 * The floor targets on the cluster `conf`, in the tenant's root `root` (core 0, like the tenant's service): they run
 * the metadata group only, each run in a new directory that the floor's own client makes.
 */
function floorTargets(conf: string, root: string): Target[] {
  return (["backend", "cache"] as const).map((stack) => ({
    backend: "cephfs",
    name: FLOOR[stack],
    dir: root,
    kernelDir: null,
    launch: {},
    measureGroup: (jobs) => (jobs.every((j) => META_JOBS.includes(j.name)) ? { ...runFloor(conf, root, `floor-${stack}`, SIZES.metaFiles, stack, SERVICE_CPUS[0]!) } : null),
  }));
}

/** The running cluster's ceph.conf, or null (DANAUS_CEPH_CONF, else DANAUS_CEPH_DIR, else the project's). */
function clusterConf(): string | null {
  const fromEnv = process.env.DANAUS_CEPH_CONF;
  const cluster = status(process.env.DANAUS_CEPH_DIR ?? (fromEnv ? dirname(fromEnv) : DEFAULT_CLUSTER_DIR));
  return cluster.usable && cluster.conf !== null ? cluster.conf : null;
}

/** Builds the library without its attribute cache into `dir`; returns its path. */
function buildWithoutAttrCache(dir: string): string {
  const build = Bun.spawnSync(["bash", join(ROOT, "shims/preload/build.sh"), dir], { stderr: "pipe", env: { ...process.env, DANAUS_PRELOAD_CFLAGS: "-DDANAUS_NO_ATTR_CACHE" } });
  if (build.exitCode !== 0) throw new Error(`building the library without its attribute cache failed: ${build.stderr.toString().trim()}`);
  return join(dir, "libdanaus-preload.so");
}

/**
 * The stat part's points on `targets` (a file made in each target's directory): the library with and without its
 * attribute cache, on the FUSE mount's directory as the library sees it (the same backend file), every other target
 * on its own directory.
 */
function statPoints(targets: readonly Target[], noCacheLibrary: string): StatPoint[] {
  const points: StatPoint[] = [];
  const pinned = ["taskset", "-c", String(FIO_CPU)];
  for (const target of targets) {
    // A floor runs no program of its own (and has no directory the kernel sees).
    if (target.name === "host tmpfs (/dev/shm)" || target.kernelDir === null) continue;
    writeFileSync(join(target.kernelDir, STAT_FILE), Buffer.alloc(4096, 1));
    const point = { backend: target.backend, target: target.name, path: join(target.dir, STAT_FILE), prefix: target.launch.prefix ?? pinned, ...(target.launch.env ? { env: target.launch.env } : {}) };
    points.push(point);
    if (target.name === PRELOAD_CORE1) points.push({ ...point, target: PRELOAD_NO_CACHE, env: { ...target.launch.env, LD_PRELOAD: noCacheLibrary } });
  }
  return points;
}

/** The calls table: the added cost of the library on calls that go to the kernel. */
function printCalls(calls: CallsPart): void {
  process.stdout.write(`\nadded cost on calls that go to the kernel (ns per call: median of ${calls.runs} runs, each the median of ${calls.batches} batches of ${calls.callsPerBatch} calls; "added" is the median of the per-round differences; core ${calls.cpu})\n`);
  printTable(
    ["call", "without library", "loaded, unconnected", "connected", "added (connected)", "added (unconnected)", "noise (control - without)", `added <= ${ADDED_NS_TARGET} ns`],
    (
      [
        ["stat (host file)", calls.medians.statNs],
        ["pread 4 KiB (host file)", calls.medians.preadNs],
      ] as const
    ).map(([name, m]) => [name, m.without, m.loaded, m.with, m.added, m.addedLoaded, m.noise, m.added <= ADDED_NS_TARGET ? "met" : "not met"]),
  );
}

/** Runs the benchmark, prints its tables and writes bench/results/preload.json. */
export async function run(): Promise<void> {
  if (process.getuid?.() !== 0 || !existsSync("/dev/fuse")) {
    process.stderr.write("bench preload needs root and /dev/fuse (the FUSE mount, the tenant's pool)\n");
    process.exit(1);
  }
  const build = Bun.spawnSync(["bash", join(ROOT, "shims/preload/build.sh")], { stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`building the preload library failed: ${build.stderr.toString().trim()}`);
  const started = Date.now();
  const loadAtStart = loadavg().map((x) => +x.toFixed(2));
  const conf = clusterConf();
  const cephNote = conf === null ? "not run (no cluster)" : "run";
  if (conf === null) process.stderr.write("bench preload: no usable Ceph cluster: the cephfs rows and ceph-fuse are not run\n");
  const closers: (() => Promise<void> | void)[] = [];
  let rows: Row[];
  let calls: CallsPart;
  let stats: StatPart;
  try {
    const local = await danausSide("local", localTenantToml);
    closers.push(() => local.close());
    if (ONLY === "calls") {
      printCalls(runCallsPart(preloadLibrary(), local.socket, local.privateMount, FIO_CPU));
      process.stdout.write("(DANAUS_BENCH_ONLY=calls: the fio jobs were not run and results/preload.json was not written)\n");
      return;
    }
    const variant = mkdtempSync(join(tmpdir(), "danaus-bench-preload-no-attr-cache-"));
    closers.push(() => rmSync(variant, { recursive: true, force: true }));
    const noCacheLibrary = buildWithoutAttrCache(variant);
    const targets: Target[] = [...local.targets, hostTarget("host ext4 (/tmp)", tmpdir()), hostTarget("host tmpfs (/dev/shm)", "/dev/shm")];
    if (conf !== null) {
      const base = `bench-preload-${process.pid}`;
      const admin = await mountCephFuse(conf, [], SERVICE_CPUS);
      closers.push(() => {
        try {
          rmSync(join(admin.path, base), { recursive: true, force: true });
        } finally {
          admin.unmount();
        }
      });
      mkdirSync(join(admin.path, base, "tenant"), { recursive: true });
      const ceph = await danausSide("cephfs", (mounts) => cephTenantToml(conf, `/${base}/tenant`, SERVICE_CPUS, "1GiB", mounts));
      closers.push(() => ceph.close());
      const dir = join(admin.path, base, "ceph-fuse");
      targets.push(...ceph.targets, { backend: "cephfs", name: CEPH_FUSE, dir, kernelDir: dir, launch: {} }, ...floorTargets(conf, `/${base}/tenant`));
    }
    for (const target of targets) {
      const kernelDir = target.kernelDir;
      if (kernelDir === null) continue;
      mkdirSync(kernelDir);
      closers.push(() => rmSync(kernelDir, { recursive: true, force: true }));
    }
    stats = runMountStatPart(statPoints(targets, noCacheLibrary));
    rows = ONLY_STAT ? [] : measureAll(targets);
    calls = runCallsPart(preloadLibrary(), local.socket, local.privateMount, FIO_CPU);
  } finally {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (error) {
        process.stderr.write(`bench preload: clean-up: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  }

  process.stdout.write(`\nfio, one job at a time, median of ${ROUNDS} rounds (${SIZES.seq} sequential file, 4 KiB random r/w on ${SIZES.rand} for ${SIZES.randSeconds} s, ${SIZES.metaFiles} files); services on core ${SERVICE_CPUS.join(",")}, fio on core ${FIO_CPU} unless placed by danaus run\n`);
  printTable(["backend", "target", ...JOBS.map((j) => `${j.name} ${j.unit}`)], rows.map((r) => [r.backend, r.target, ...JOBS.map((j) => r.figures[j.name] ?? "-")]));

  const find = (backend: string, target: string) => rows.find((r) => r.backend === backend && r.target === target);
  const ratios: Ratio[] = [];
  for (const backend of ["local", "cephfs"]) {
    const fuse = find(backend, FUSE);
    const cephFuse = find("cephfs", CEPH_FUSE);
    const floor = backend === "cephfs" ? find("cephfs", FLOOR.backend) : undefined;
    for (const preload of [PRELOAD_POOL, PRELOAD_CORE1]) {
      const mine = find(backend, preload);
      if (!mine || !fuse) continue;
      for (const job of JOBS) {
        const vsFuse = ratio(mine.figures[job.name]!, fuse.figures[job.name]!);
        const vsCephFuse = backend === "cephfs" && cephFuse ? ratio(mine.figures[job.name]!, cephFuse.figures[job.name]!) : null;
        const floorFigure = floor?.figures[job.name];
        const vsFloor = floorFigure !== undefined ? ratio(mine.figures[job.name]!, floorFigure) : null;
        const met = vsFuse >= SPEEDUP_TARGET && (backend !== "cephfs" || (vsCephFuse !== null && vsCephFuse >= SPEEDUP_TARGET));
        ratios.push({ backend, preload, job: job.name, vsFuse, vsCephFuse, vsFloor, met });
      }
    }
  }
  process.stdout.write(`\nratios: preload ÷ FUSE legacy mount (same tenant, same backend), preload ÷ ceph-fuse (cephfs only); target >= ${SPEEDUP_TARGET}x on ${TARGET_JOBS.join(", ")}\n`);
  printTable(
    ["backend", "preload", "job", "÷ FUSE", "÷ ceph-fuse", "÷ floor", "target"],
    ratios.map((r) => [r.backend, r.preload, r.job, r.vsFuse, r.vsCephFuse ?? (r.backend === "cephfs" ? "n/a" : "-"), r.vsFloor ?? "-", TARGET_JOBS.includes(r.job) ? (r.met ? "met" : "not met") : "(report)"]),
  );
  const backendFloor = find("cephfs", FLOOR.backend);
  const floor = backendFloor === undefined ? [] : META_JOBS.map((job) => ({
    job,
    floorOpsPerSec: backendFloor.figures[job]!,
    vsFloor: Object.fromEntries(rows.filter((r) => r.backend === "cephfs").map((r) => [r.target, ratio(r.figures[job]!, backendFloor.figures[job]!)])),
  }));
  if (floor.length > 0) {
    process.stdout.write(`\ncephfs metadata jobs ÷ the floor (${FLOOR.backend}, ops/s in the first column)\n`);
    const names = Object.keys(floor[0]!.vsFloor);
    printTable(["job", "floor ops/s", ...names], floor.map((f) => [f.job, f.floorOpsPerSec, ...names.map((n) => f.vsFloor[n]!)]));
  }
  const verdicts = [...new Set(ratios.map((r) => `${r.backend}|${r.preload}`))].map((key) => {
    const [backend, preload] = key.split("|") as [string, string];
    const mine = ratios.filter((r) => r.backend === backend && r.preload === preload && TARGET_JOBS.includes(r.job));
    const met = mine.filter((r) => r.met).map((r) => r.job);
    return { backend, preload, met: met.length === mine.length, jobsMet: met, jobs: mine.length };
  });
  for (const v of verdicts) process.stdout.write(`2x target, ${v.backend}, ${v.preload}: ${v.met ? "met" : "not met"} (${v.jobsMet.length} of ${v.jobs}${v.jobsMet.length ? `: ${v.jobsMet.join(", ")}` : ""})\n`);
  if (conf === null) process.stdout.write(`ceph-fuse and the cephfs backend: ${cephNote}\n`);

  printCalls(calls);
  process.stdout.write(`\nstat(2) of one existing 4 KiB file, ns per call (median of ${stats.runs} runs, each the median of ${stats.batches} batches of ${stats.callsPerBatch}); each ratio is the stats per second of the row over the FUSE mount's of its backend\n`);
  const fuseNs = (backend: string) => stats.rows.find((r) => r.backend === backend && r.target === FUSE)?.medianNs;
  const hostNs = stats.rows.find((r) => r.backend === "host")?.medianNs;
  const cephFuseNs = stats.rows.find((r) => r.target === CEPH_FUSE)?.medianNs;
  const over = (base: number | undefined, ns: number) => (base === undefined ? "-" : ratio(base, ns));
  printTable(
    ["backend", "target", "ns per stat", "stats/s", "÷ FUSE mount", "÷ ceph-fuse", "÷ host ext4"],
    stats.rows.map((r) => [
      r.backend, r.target, r.medianNs, r.statsPerSecond,
      r.backend === "host" ? "-" : over(fuseNs(r.backend), r.medianNs),
      r.backend === "cephfs" ? over(cephFuseNs, r.medianNs) : "-",
      over(hostNs, r.medianNs),
    ]),
  );
  const fioStat = (backend: string, target: string) => find(backend, target)?.figures.stat;
  const hostFio = fioStat("host", "host ext4 (/tmp)");
  const reach = ["local", "cephfs"].flatMap((backend) => {
    const fuse = fioStat(backend, FUSE);
    return fuse === undefined || hostFio === undefined ? [] : [{ backend, fuseOpsPerSec: fuse, hostExt4OpsPerSec: hostFio, hostOverFuse: ratio(hostFio, fuse), reachable: hostFio / fuse >= SPEEDUP_TARGET }];
  });
  for (const r of reach) {
    process.stdout.write(`fio stat job, ${r.backend}: host ext4 ${r.hostExt4OpsPerSec}/s is ${r.hostOverFuse}x the FUSE mount's ${r.fuseOpsPerSec}/s: 2x the FUSE mount is ${r.reachable ? "" : "not "}reachable for a target no faster than ext4\n`);
  }
  const loadAtEnd = loadavg().map((x) => +x.toFixed(2));
  process.stdout.write(`\n(run took ${((Date.now() - started) / 1000).toFixed(0)} s; load average ${loadAtStart.join(" ")} at the start, ${loadAtEnd.join(" ")} at the end)\n`);

  const out = {
    benchmark: "preload",
    when: new Date().toISOString(),
    serviceCpus: SERVICE_CPUS,
    fioCpu: FIO_CPU,
    ceph: cephNote,
    loadAverage: { start: loadAtStart, end: loadAtEnd },
    sizes: SIZES,
    rounds: ROUNDS,
    targets: {
      [PRELOAD_POOL]: "fio started by `danaus run --tenant alpha -- fio …` on the tenant's non-legacy mount: in the tenant's pool (cpuset core 0, beside its service)",
      [PRELOAD_CORE1]: "fio with LD_PRELOAD and DANAUS_SOCKET set by hand, pinned to core 1 like every other target, on the same non-legacy mount",
      [FUSE]: "fio on the same tenant's legacy mount (fuse-legacy, default directIo = true) of the same backend directory",
      [CEPH_FUSE]: "ceph-fuse (default options) on the same cluster, daemon pinned to core 0",
      [FLOOR.backend]: "fio's create/stat/unlink loops (open O_CREAT|O_RDWR 0600 + close, stat, unlink) in one Bun process on core 0, calling the project's CephBackend directly (no IPC, no cache), as a libcephfs client of its own in the tenant's root; its directory made by that client (bench/preload-floor.ts)",
      [FLOOR.cache]: "the same loops through the tenant's client cache (CachedFileSystem) over the CephBackend, as a service thread calls it, still in one process with no IPC",
      host: "fio in a directory of the host's ext4 (/tmp) or tmpfs (/dev/shm)",
      [PRELOAD_NO_CACHE]: "stat part only: as fio on core 1, with the library built with -DDANAUS_NO_ATTR_CACHE (every stat asks the service)",
    },
    jobs: JOBS.map((j) => ({ name: j.name, unit: j.unit, fio: j.args.join(" ") })),
    rows,
    ratios,
    floor,
    target: { wanted: `preload >= ${SPEEDUP_TARGET}x the FUSE mount and >= ${SPEEDUP_TARGET}x ceph-fuse on ${TARGET_JOBS.join(", ")}`, verdicts },
    calls,
    stat: { ...stats, fioStatReach: reach },
  };
  mkdirSync(join(import.meta.dir, "results"), { recursive: true });
  const file = join(import.meta.dir, "results", "preload.json");
  // A stat-only run keeps the last fio results.
  const previous = ONLY_STAT && existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Partial<typeof out>) : {};
  const kept = ONLY_STAT ? { rows: previous.rows ?? [], ratios: previous.ratios ?? [], floor: previous.floor ?? out.floor, target: previous.target ?? out.target, fioWhen: previous.when } : {};
  writeFileSync(file, JSON.stringify({ ...out, ...kept }, null, 2) + "\n");
}
