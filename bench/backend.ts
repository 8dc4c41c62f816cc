/**
 * @module backend — `bun run bench backend`: danaus (shared-memory client → tenant service with its cache →
 * libcephfs) against ceph-fuse on the same cluster (default, and with --fuse_disable_pagecache=true), the same Bun
 * driver for all (FileSystem calls for danaus, node:fs calls on the ceph-fuse mounts), pinned to the last core; every
 * thread of the tenant service and of each ceph-fuse daemon is confined to core 0 (as a tenant pool's cpuset would).
 * Needs the cluster: `bun run ceph up`.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pinThread } from "../kernel/sys/libc.ts";
import { status } from "../scripts/ceph/index.ts";
import { DEFAULT_CLUSTER_DIR } from "../scripts/ceph/index.ts";
import { DanausClient } from "../shims/ts/index.ts";
import { startTestRouter, type TestRouter } from "../test/services/ipc-router/router-harness.ts";
import { Harness } from "../test/integration/harness.ts";
import { makeFileSet, metadataOps, randomReadWrite, sequentialRead, sequentialWrite, warmCode, type Rate, type Throughput } from "./backend-driver.ts";
import { dropPageCache, mountCephFuse, type CephFuseMount } from "./ceph-fuse.ts";
import { nodeFs, type BenchFs } from "./node-fs.ts";
import { measureRelayFloors } from "./relay-floor.ts";
import { inSituExtraUs, type ProbeTimes, type RelayProbe, startRelayProbe } from "./relay-probe.ts";
import { printTable, quantile } from "./stats.ts";

const MiB = 1 << 20;
const SEQ_BYTES = Number(process.env.DANAUS_BENCH_SEQ_MIB ?? 256) * MiB;
const SET_FILES = 16;
const SET_FILE_BYTES = 4 * MiB;
const PHASE_MS = Number(process.env.DANAUS_BENCH_MS ?? 5000);
const WARM_PASSES = 5;
/** Before the cold read, each target reads another file of this size this many times (see measure). */
const WARM_UP_BYTES = 32 * MiB;
const WARM_UP_PASSES = 10;
/**
 * Before the jobs and again after the restart, each target runs their code on little data (see warmCode): this many
 * 4 KiB writes and create/stat/unlink triples. DANAUS_BENCH_WARM_CODE=0 skips it, to see what freshly started
 * processes cost.
 */
const WARM_CODE = process.env.DANAUS_BENCH_WARM_CODE !== "0";
const WARM_CODE_WRITES = 20_000;
const WARM_CODE_TRIPLES = 1_000;
const CLIENT_CPU = Math.max(0, navigator.hardwareConcurrency - 1);
/** Both file system services (the danaus tenant service, and each ceph-fuse daemon) get core 0, as a tenant pool would. */
const SERVICE_CPUS = [0];
/** DANAUS_BENCH_ONLY=topologies: only the placements of the data services (the other rows stay from the last run). */
const ONLY_TOPOLOGIES = process.env.DANAUS_BENCH_ONLY === "topologies";
/** Rounds over the placements (DANAUS_BENCH_TOPOLOGY_ROUNDS, default 3); the slowdowns are the median round's. */
const TOPOLOGY_ROUNDS = Math.max(1, Number(process.env.DANAUS_BENCH_TOPOLOGY_ROUNDS ?? 3));
/** The jobs of a row, as the slowdown table names them. */
const JOBS = ["seqWrite", "seqWriteFsync", "seqReadCold", "seqReadWarm", "randRw", "meta"] as const;
type Job = (typeof JOBS)[number];

const median = (values: number[]) => quantile(values, 0.5);

/** One system under test. */
interface Target {
  readonly name: string;
  fs(): BenchFs;
  /** Empties every cache between the driver and the cluster that this target owns. */
  cold(): Promise<void>;
  close(): Promise<void>;
}

/** What one target measured. */
interface Row {
  target: string;
  seqWrite: Throughput;
  seqWriteFsync: Throughput;
  seqReadCold: Throughput;
  /** The median of {@link WARM_PASSES} passes. */
  seqReadWarm: Throughput;
  randRw: Rate;
  meta: Rate;
}

async function danausTarget(conf: string, root: string): Promise<Target> {
  // DANAUS_BENCH_CEPH_OPTIONS (JSON) overrides libcephfs options of the danaus target, e.g. {"client_oc":"true"}.
  const options = JSON.parse(process.env.DANAUS_BENCH_CEPH_OPTIONS ?? "{}") as Record<string, string>;
  const backend = { kind: "cephfs" as const, conf, fs: "cephfs", root, clientId: "admin", options };
  const cache = { sizeBytes: 512 * MiB, maxDirtyBytes: 256 * MiB, blockSizeBytes: MiB, writebackMs: 1000, expireMs: 5000, writeback: "async" as const };
  let router: TestRouter = await startTestRouter({ mounts: 1, cpus: SERVICE_CPUS, backend, cache, pinProcess: true });
  let client = DanausClient.connect({ socket: router.socket });
  return {
    name: "danaus",
    fs: () => client.fileSystem("/m0"),
    async cold() {
      client.disconnect();
      await router.stop();
      router = await startTestRouter({ mounts: 1, cpus: SERVICE_CPUS, backend, cache, pinProcess: true });
      client = DanausClient.connect({ socket: router.socket });
    },
    async close() {
      client.disconnect();
      await router.stop();
    },
  };
}

/** The placements of the data services compared on a union mount (issue 14), with their names in the table. */
const TOPOLOGIES = [
  { name: "danaus union, fused", topology: `[["client-cache", "union", "ipc-router"]]`, hops: 0 },
  { name: "danaus union, router + data process", topology: `[["ipc-router"], ["union", "client-cache"]]`, hops: 1 },
  { name: "danaus union, fully split", topology: `[["ipc-router"], ["union"], ["client-cache"]]`, hops: 2 },
] as const;

/**
 * danaus under a real supervisor with the tenant's data services placed as `topology` says, on a union mount (upper
 * `upper`, lower `lower`, made beforehand in `root`) so a request of the fully split topology crosses router → union →
 * client-cache. The tenant's pool is core 0, its cache as {@link danausTarget}'s; cold() restarts the tenant.
 */
async function topologyTarget(conf: string, root: string, name: string, topology: string): Promise<Target> {
  const tenant = [
    `name = "bench"`, `cpus = [${SERVICE_CPUS.join(", ")}]`, `memory = "2GiB"`, `topology = ${topology}`,
    `[backend]`, `kind = "cephfs"`, `conf = ${JSON.stringify(conf)}`, `root = ${JSON.stringify(root)}`,
    `[cache]`, `size = "512MiB"`, `maxDirty = "256MiB"`, `blockSize = "1MiB"`,
    `[[mounts]]`, `path = "/mnt/bench/union"`, `upper = "upper"`, `lowers = ["lower"]`,
  ].join("\n");
  const start = async () => {
    const h = new Harness({ tenants: { bench: tenant } });
    await h.start(["bench"]);
    return { h, client: DanausClient.connect({ socket: join(h.dir, "state/run/bench/router.sock") }) };
  };
  let running = await start();
  return {
    name,
    fs: () => running.client.fileSystem("/mnt/bench/union"),
    async cold() {
      running.client.disconnect();
      await running.h.stop();
      running = await start();
    },
    async close() {
      running.client.disconnect();
      await running.h.stop();
    },
  };
}

async function cephFuseTarget(name: string, conf: string, extra: string[], dir: string): Promise<Target> {
  let mount: CephFuseMount = await mountCephFuse(conf, extra, SERVICE_CPUS);
  mkdirSync(join(mount.path, dir), { recursive: true });
  return {
    name,
    fs: () => nodeFs(join(mount.path, dir)),
    async cold() {
      mount.unmount();
      dropPageCache();
      mount = await mountCephFuse(conf, extra, SERVICE_CPUS);
    },
    async close() {
      mount.unmount();
    },
  };
}

/**
 * Runs every job on `target`. With `probe`, each measured job's calls are followed by probe requests on relay chains
 * (relay-probe.ts), charged to that job (the sequential write's to seqWrite, which +fsync shares).
 */
async function measure(target: Target, probe?: RelayProbe): Promise<Row> {
  const say = (what: string) => process.stderr.write(`  ${target.name}: ${what}\n`);
  const fs = () => (probe === undefined ? target.fs() : probe.wrap(target.fs()));
  const job = <T>(name: Job, run: () => T): T => {
    probe?.mark(name);
    try {
      return run();
    } finally {
      probe?.mark(null);
    }
  };
  const warm = () => {
    if (WARM_CODE) warmCode(target.fs(), "/warm-code", WARM_CODE_WRITES, WARM_CODE_TRIPLES);
  };
  warm();
  sequentialWrite(target.fs(), "/warm-up", WARM_UP_BYTES);
  say(`sequential write ${SEQ_BYTES / MiB} MiB`);
  const { written: seqWrite, synced: seqWriteFsync } = job("seqWrite", () => sequentialWrite(fs(), "/seq", SEQ_BYTES));
  await target.cold();
  // Cold caches, warm code: a restarted danaus process runs its first few hundred requests before the JIT compiles
  // them (three such processes in the fully split placement), which is not what a cold cache costs a running tenant.
  for (let pass = 0; pass < WARM_UP_PASSES; pass++) sequentialRead(target.fs(), "/warm-up", WARM_UP_BYTES);
  target.fs().unlink("/warm-up");
  warm();
  say("sequential read, cold");
  const seqReadCold = job("seqReadCold", () => sequentialRead(fs(), "/seq", SEQ_BYTES));
  say(`sequential read, warm (median of ${WARM_PASSES})`);
  const passes = job("seqReadWarm", () => Array.from({ length: WARM_PASSES }, () => sequentialRead(fs(), "/seq", SEQ_BYTES))).sort((a, b) => a.mbPerSec - b.mbPerSec);
  const seqReadWarm = passes[Math.floor(WARM_PASSES / 2)]!;
  target.fs().unlink("/seq");
  say(`4 KiB random read/write on ${SET_FILES} × ${SET_FILE_BYTES / MiB} MiB`);
  const set = makeFileSet(target.fs(), "/set", SET_FILES, SET_FILE_BYTES);
  const randRw = job("randRw", () => randomReadWrite(fs(), set, SET_FILE_BYTES, PHASE_MS));
  for (const path of set) target.fs().unlink(path);
  say("create/stat/unlink");
  const meta = job("meta", () => metadataOps(fs(), "/meta", PHASE_MS));
  return { target: target.name, seqWrite, seqWriteFsync, seqReadCold, seqReadWarm, randRw, meta };
}

/**
 * Requests per second the fused placement's `job` made of the service (1 MiB per request for the sequential jobs, one
 * per 4 KiB operation, four per create/stat/unlink triple of three counted calls).
 */
function requestsPerSecond(fused: Row, job: Job): number {
  switch (job) {
    case "seqWrite":
    case "seqWriteFsync":
    case "seqReadCold":
    case "seqReadWarm":
      return (fused[job].mbPerSec * 1e6) / MiB;
    case "randRw":
      return fused.randRw.opsPerSec;
    case "meta":
      return (fused.meta.opsPerSec * 4) / 3;
  }
}

/** Runs the benchmark and writes bench/results/backend.json. */
export async function run(): Promise<void> {
  const cluster = status(process.env.DANAUS_CEPH_DIR ?? DEFAULT_CLUSTER_DIR);
  if (!cluster.usable || cluster.conf === null) {
    process.stderr.write(`bench backend needs the Ceph cluster in ${cluster.dir}: run \`bun run ceph up\` first\n`);
    process.exit(1);
  }
  const conf = cluster.conf;
  pinThread([CLIENT_CPU]);
  const base = `bench-backend-${process.pid}`;
  const admin = await mountCephFuse(conf);
  const rows: Row[] = [];
  const topologyRounds: Row[][] = [];
  /** Per round, what the probed fused placement's relay chains took per job (see relay-probe.ts). */
  const probeRounds: Record<string, ProbeTimes>[] = [];
  try {
    mkdirSync(join(admin.path, base, "danaus"), { recursive: true });
    const makers: (() => Promise<Target>)[] = ONLY_TOPOLOGIES
      ? []
      : [
          () => danausTarget(conf, `/${base}/danaus`),
          () => cephFuseTarget("ceph-fuse", conf, [], `${base}/fuse-default`),
          () => cephFuseTarget("ceph-fuse nopagecache", conf, ["--fuse_disable_pagecache=true"], `${base}/fuse-nopc`),
        ];
    const measureOne = async (make: () => Promise<Target>, probe?: RelayProbe): Promise<Row> => {
      const target = await make();
      try {
        return await measure(target, probe);
      } finally {
        await target.close();
      }
    };
    for (const make of makers) rows.push(await measureOne(make));
    // The placements take turns, round after round, each in a fresh directory, so a noisy minute of the shared machine
    // falls on all of them.
    for (let round = 0; round < TOPOLOGY_ROUNDS; round++) {
      const roundRows: Row[] = [];
      for (const [i, { name, topology }] of TOPOLOGIES.entries()) {
        mkdirSync(join(admin.path, base, `topology-${i}-${round}`, "lower"), { recursive: true });
        roundRows.push(await measureOne(() => topologyTarget(conf, `/${base}/topology-${i}-${round}`, name, topology)));
      }
      topologyRounds.push(roundRows);
      // The fused placement once more, probed: what each placement's hops add to one request of each job in situ.
      mkdirSync(join(admin.path, base, `probe-${round}`, "lower"), { recursive: true });
      const probe = await startRelayProbe(TOPOLOGIES.map((t) => t.hops), SERVICE_CPUS[0]!);
      try {
        await measureOne(() => topologyTarget(conf, `/${base}/probe-${round}`, `${TOPOLOGIES[0].name}, probed`, TOPOLOGIES[0].topology), probe);
        probeRounds.push(probe.results());
      } finally {
        await probe.stop();
      }
    }
  } finally {
    rmSync(join(admin.path, base), { recursive: true, force: true });
    admin.unmount();
  }
  process.stderr.write("  crossing floor: each placement's chain as Bun processes passing a request on with the project's ring code\n");
  const relayFloors = await measureRelayFloors(TOPOLOGIES.map((t) => t.hops), SERVICE_CPUS[0]!);
  const floorUs = (hops: number) => relayFloors.find((f) => f.hops === hops)!.medianUs;
  const columns = ["target", "seq write MB/s", "+fsync MB/s", "seq read cold MB/s", "seq read warm MB/s", "4k randrw ops/s", "meta ops/s"];
  const line = (r: Row) => [r.target, r.seqWrite.mbPerSec, r.seqWriteFsync.mbPerSec, r.seqReadCold.mbPerSec, r.seqReadWarm.mbPerSec, r.randRw.opsPerSec, r.meta.opsPerSec];
  if (rows.length > 0) printTable(columns, rows.map(line));
  for (const [round, roundRows] of topologyRounds.entries()) {
    process.stdout.write(`\nthe union mount per placement, round ${round + 1} of ${topologyRounds.length}:\n`);
    printTable(columns, roundRows.map(line));
  }
  // Each job of the split placements against the fused one, as fused / split (the issue's bound: within 1.1), per round;
  // the table gives the median round and the range.
  const slowdown = (fused: Row, split: Row): Record<Job, number> => ({
    seqWrite: fused.seqWrite.mbPerSec / split.seqWrite.mbPerSec,
    seqWriteFsync: fused.seqWriteFsync.mbPerSec / split.seqWriteFsync.mbPerSec,
    seqReadCold: fused.seqReadCold.mbPerSec / split.seqReadCold.mbPerSec,
    seqReadWarm: fused.seqReadWarm.mbPerSec / split.seqReadWarm.mbPerSec,
    randRw: fused.randRw.opsPerSec / split.randRw.opsPerSec,
    meta: fused.meta.opsPerSec / split.meta.opsPerSec,
  });
  const perRound = (name: string) => topologyRounds.map((r) => slowdown(r.find((x) => x.target === TOPOLOGIES[0].name)!, r.find((x) => x.target === name)!));
  const topologySlowdown = Object.fromEntries(TOPOLOGIES.slice(1).map(({ name }) => [name, Object.fromEntries(JOBS.map((job) => [job, +median(perRound(name).map((r) => r[job])).toFixed(2)]))]));
  const topologySlowdownRange = Object.fromEntries(
    TOPOLOGIES.slice(1).map(({ name }) => [name, Object.fromEntries(JOBS.map((job) => {
      const values = perRound(name).map((r) => r[job]);
      return [job, [+Math.min(...values).toFixed(2), +Math.max(...values).toFixed(2)]];
    }))]),
  );
  // The least slowdown a placement's extra crossings allow: each request of the fused round costs at least the chain's
  // floor minus the fused front's more (relay-floor.ts, Bun processes doing nothing else), the median round's.
  const extraSeconds = (hops: number) => (floorUs(hops) - floorUs(0)) / 1e6;
  const leastSlowdown = Object.fromEntries(
    TOPOLOGIES.slice(1).map(({ name, hops }) => [name, Object.fromEntries(JOBS.map((job) => {
      const least = topologyRounds.map((r) => 1 + extraSeconds(hops) * requestsPerSecond(r.find((x) => x.target === TOPOLOGIES[0].name)!, job));
      return [job, +median(least).toFixed(2)];
    }))]),
  );
  // The same with what the hops took in situ, each round's probed fused run (the sequential write's probes for +fsync).
  const probeJob = (job: Job) => (job === "seqWriteFsync" ? "seqWrite" : job);
  const leastInSitu = Object.fromEntries(
    TOPOLOGIES.slice(1).map(({ name, hops }) => [name, Object.fromEntries(JOBS.map((job) => {
      const least = topologyRounds.map((r, round) => 1 + (inSituExtraUs(probeRounds[round]![probeJob(job)]!, hops) / 1e6) * requestsPerSecond(r.find((x) => x.target === TOPOLOGIES[0].name)!, job));
      return [job, +median(least).toFixed(2)];
    }))]),
  );
  const inSituUs = Object.fromEntries(
    TOPOLOGIES.slice(1).map(({ name, hops }) => [name, Object.fromEntries(JOBS.map((job) => [job, +median(probeRounds.map((p) => inSituExtraUs(p[probeJob(job)]!, hops))).toFixed(1)]))]),
  );
  process.stdout.write(`\nslowdown of each placement against the fused one on the union mount (fused / split, median of ${topologyRounds.length} rounds [range]; wanted <= 1.1 on Ceph-bound jobs;`);
  process.stdout.write(` "least": what the placement's crossings alone cost at the fused rate, with the TypeScript floor of ${relayFloors.map((f) => `${f.medianUs} µs`).join(" / ")};`);
  process.stdout.write(` "least in situ": the same with what the hops added to each request of the job on the tenant's core while the fused tenant ran it (µs)):\n`);
  printTable(
    ["placement", "seq write", "+fsync", "read cold", "read warm", "4k randrw", "meta"],
    TOPOLOGIES.slice(1).flatMap(({ name }) => [
      [name, ...JOBS.map((job) => `${topologySlowdown[name]![job]} [${topologySlowdownRange[name]![job]!.join("–")}]`)],
      ["  least", ...JOBS.map((job) => String(leastSlowdown[name]![job]))],
      ["  least in situ", ...JOBS.map((job) => `${leastInSitu[name]![job]} (${inSituUs[name]![job]} µs)`)],
    ]),
  );
  const rowsOut = [...rows, ...(topologyRounds[0] ?? [])];
  const warmCodeOut = WARM_CODE ? { writes: WARM_CODE_WRITES, triples: WARM_CODE_TRIPLES } : null;
  if (ONLY_TOPOLOGIES) {
    // Keep the last full run's other rows and targets; replace the topology rows.
    const file = join(import.meta.dir, "results", "backend.json");
    const last = JSON.parse(readFileSync(file, "utf8")) as { rows: Row[] };
    const names: readonly string[] = TOPOLOGIES.map((t) => t.name);
    const out = { ...last, topologiesWhen: new Date().toISOString(), topologiesWarmCode: warmCodeOut, rows: [...last.rows.filter((r) => !names.includes(r.target)), ...rowsOut], topologyRounds, topologySlowdown, topologySlowdownRange, relayFloors, leastSlowdown, probeRounds, inSituUs, leastInSitu };
    writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
    return;
  }
  const by = (name: string) => rows.find((r) => r.target === name)!;
  const d = by("danaus");
  const ratio = (a: number, b: number) => +(a / b).toFixed(2);
  const best = (pick: (r: Row) => number) => Math.max(pick(by("ceph-fuse")), pick(by("ceph-fuse nopagecache")));
  const targets = {
    seqWriteVsCephFuse: { target: ">= 1.5", reached: ratio(d.seqWrite.mbPerSec, best((r) => r.seqWrite.mbPerSec)) },
    seqWriteFsyncVsCephFuse: { target: "(report)", reached: ratio(d.seqWriteFsync.mbPerSec, best((r) => r.seqWriteFsync.mbPerSec)) },
    coldReadVsCephFuse: { target: "(report)", reached: ratio(d.seqReadCold.mbPerSec, best((r) => r.seqReadCold.mbPerSec)) },
    randRwVsCephFuse: { target: ">= 1.5", reached: ratio(d.randRw.opsPerSec, best((r) => r.randRw.opsPerSec)) },
    metaVsCephFuse: { target: ">= 2", reached: ratio(d.meta.opsPerSec, best((r) => r.meta.opsPerSec)) },
    warmReadVsCephFuse: { target: ">= 2", reached: ratio(d.seqReadWarm.mbPerSec, best((r) => r.seqReadWarm.mbPerSec)) },
  };
  const vsDefault = {
    seqWrite: ratio(d.seqWrite.mbPerSec, by("ceph-fuse").seqWrite.mbPerSec),
    randRw: ratio(d.randRw.opsPerSec, by("ceph-fuse").randRw.opsPerSec),
    meta: ratio(d.meta.opsPerSec, by("ceph-fuse").meta.opsPerSec),
    warmRead: ratio(d.seqReadWarm.mbPerSec, by("ceph-fuse").seqReadWarm.mbPerSec),
  };
  process.stdout.write(`\ndanaus / ceph-fuse default: ${Object.entries(vsDefault).map(([k, v]) => `${k} ${v}`).join(", ")}\n`);
  process.stdout.write("\ntargets (danaus / the better ceph-fuse variant):\n");
  printTable(["target", "wanted", "reached"], Object.entries(targets).map(([k, t]) => [k, t.target, String(t.reached)]));
  const out = {
    benchmark: "backend",
    when: new Date().toISOString(),
    seqBytes: SEQ_BYTES,
    fileSet: { files: SET_FILES, fileBytes: SET_FILE_BYTES },
    phaseMs: PHASE_MS,
    warmCode: warmCodeOut,
    danausCephOptions: JSON.parse(process.env.DANAUS_BENCH_CEPH_OPTIONS ?? "{}"),
    serviceCpus: SERVICE_CPUS,
    clientCpu: CLIENT_CPU,
    rows: rowsOut,
    targets,
    vsCephFuseDefault: vsDefault,
    topologyRounds,
    topologySlowdown,
    topologySlowdownRange,
    relayFloors,
    leastSlowdown,
    probeRounds,
    inSituUs,
    leastInSitu,
  };
  mkdirSync(join(import.meta.dir, "results"), { recursive: true });
  writeFileSync(join(import.meta.dir, "results", "backend.json"), JSON.stringify(out, null, 2) + "\n");
}
