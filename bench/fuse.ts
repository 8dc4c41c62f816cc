/**
 * @module fuse — `bun run bench fuse`: the kernel path of danaus (a tenant mount with `legacy = true`, served by
 * fuse-legacy forwarding into the tenant service on libcephfs, under a real supervisor) against ceph-fuse on the same
 * cluster (default, and with --fuse_disable_pagecache=true), with the same fio jobs for all: 1 MiB sequential
 * write/read, 4 KiB random read/write, create/stat/unlink of small files; and unionfs-fuse over ceph-fuse (the paper's
 * F/F). Then the paper's start-up experiment (fuse-startup.ts): N = 1, 4, 16 lighttpd servers chroot'd into unions
 * over one image, danaus against unionfs-fuse over ceph-fuse. Every service runs on core 0, fio and lighttpd on
 * core 1. Last, the cost of node identity (fuse-links.ts): lstat and open of 10,000 names with and without hard links
 * on fuse-legacy over a local directory, and shared-mmap reads (fuse-mmap.ts). DANAUS_BENCH_ONLY=fio|startup|links|mmap
 * runs one part (links and mmap need no cluster).
 * Needs root, /dev/fuse and the cluster: `bun run ceph up`.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_CLUSTER_DIR, status } from "../scripts/ceph/index.ts";
import { mountCephFuse } from "./ceph-fuse.ts";
import { cephTenantToml, legacyMountToml, PLACEMENTS, startDanausTenant, type Placement } from "./danaus-tenant.ts";
import { FIO_CPU, FIO_JOBS, META_FILES, runFio } from "./fuse-fio.ts";
import { runLinksPart, type LinksPart } from "./fuse-links.ts";
import { runMmapPart, type MmapPart } from "./fuse-mmap.ts";
import { runStartup, STARTUP_COUNTS, STARTUP_RUNS, type StartupRow } from "./fuse-startup.ts";
import { printTable } from "./stats.ts";
import { mountUnionfs, type UnionfsMount } from "./union-fuse.ts";

/** The file system services (the danaus tenant, each ceph-fuse daemon) get core 0, as a tenant pool would. */
const SERVICE_CPUS = [0];

/** One mounted system under test. */
interface Target {
  readonly name: string;
  /** The directory fio works in. */
  readonly dir: string;
  close(): Promise<void>;
}

/** The unionfs-fuse over ceph-fuse target's name (the paper's F/F). */
const UNIONFS = "unionfs-fuse/ceph-fuse";
/** The start-up speed-up wanted over unionfs-fuse/ceph-fuse. */
const STARTUP_TARGET = 2.3;

const ratio = (a: number, b: number) => +(a / b).toFixed(2);

/** fuse.json's fio part. */
interface FioPart {
  when: string;
  fioCpu: number;
  metaFiles: number;
  jobs: { name: string; unit: string; fio: string }[];
  rows: Row[];
  target: { wanted: string; met: boolean; ratios: object[] };
}

/** fuse.json's start-up part. */
interface StartupPart {
  when: string;
  what: string;
  runs: number;
  containerCpu: number;
  rows: StartupRow[];
  target: { wanted: string; met: boolean; speedups: object[] };
}

/** What one target measured: job name → figure. */
interface Row {
  target: string;
  figures: Record<string, number>;
}

async function danausTarget(conf: string, root: string, placement: Placement, name: string): Promise<Target> {
  const base = mkdtempSync(join(tmpdir(), "danaus-bench-fuse-"));
  const mnt = join(base, "mnt");
  const tenant = await startDanausTenant(cephTenantToml(conf, root, SERVICE_CPUS, "1GiB", [legacyMountToml(mnt, `source = "data"`)], placement), [mnt], [base]);
  try {
    const dir = join(mnt, "fio");
    mkdirSync(dir, { recursive: true });
    return { name, dir, close: () => tenant.close() };
  } catch (error) {
    await tenant.close();
    throw error;
  }
}

async function cephFuseTarget(name: string, conf: string, extra: string[], sub: string): Promise<Target> {
  const mount = await mountCephFuse(conf, extra, SERVICE_CPUS);
  const dir = join(mount.path, sub);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    mount.unmount();
    throw error;
  }
  return {
    name,
    dir,
    async close() {
      try {
        rmSync(dir, { recursive: true, force: true });
      } finally {
        mount.unmount();
      }
    },
  };
}

/** The paper's F/F: unionfs-fuse `-o cow` over ceph-fuse, fio in the union (its upper and lower on CephFS). */
async function unionfsTarget(conf: string, sub: string): Promise<Target> {
  const ceph = await mountCephFuse(conf, [], SERVICE_CPUS);
  const dir = join(ceph.path, sub);
  let union: UnionfsMount | undefined;
  const close = async () => {
    try {
      await union?.unmount();
      rmSync(dir, { recursive: true, force: true });
    } finally {
      ceph.unmount();
    }
  };
  try {
    mkdirSync(join(dir, "upper"), { recursive: true });
    mkdirSync(join(dir, "lower"), { recursive: true });
    union = await mountUnionfs(join(dir, "upper"), join(dir, "lower"), SERVICE_CPUS);
    mkdirSync(join(union.path, "fio"));
    return { name: UNIONFS, dir: join(union.path, "fio"), close };
  } catch (error) {
    await close();
    throw error;
  }
}

function measure(target: Target): Row {
  const figures: Record<string, number> = {};
  for (const job of FIO_JOBS) {
    process.stderr.write(`  ${target.name}: ${job.name}\n`);
    figures[job.name] = runFio(target.dir, job).figure;
  }
  return { target: target.name, figures };
}

/** The fio part: every target in turn under `/<base>/…`; prints its tables and returns its part of fuse.json. */
async function runFioPart(conf: string, base: string): Promise<FioPart> {
  const rows: Row[] = [];
  const makers: (() => Promise<Target>)[] = [
    ...PLACEMENTS.map(({ placement, name }) => () => danausTarget(conf, `/${base}/${placement === "in-process" ? "inproc" : "own"}`, placement, name)),
    () => cephFuseTarget("ceph-fuse", conf, [], `${base}/fuse-default`),
    () => cephFuseTarget("ceph-fuse nopagecache", conf, ["--fuse_disable_pagecache=true"], `${base}/fuse-nopc`),
    () => unionfsTarget(conf, `${base}/ff`),
  ];
  for (const make of makers) {
    const target = await make();
    try {
      rows.push(measure(target));
    } finally {
      await target.close();
    }
  }
  const jobs = FIO_JOBS.map((j) => `${j.name} ${j.unit}`);
  printTable(["target", ...jobs], rows.map((r) => [r.target, ...FIO_JOBS.map((j) => r.figures[j.name]!)]));
  const by = (name: string) => rows.find((r) => r.target === name)!;
  const ratios = PLACEMENTS.flatMap(({ name }) =>
    FIO_JOBS.map((j) => {
      const d = by(name);
      const vsDefault = ratio(d.figures[j.name]!, by("ceph-fuse").figures[j.name]!);
      const vsNoPageCache = ratio(d.figures[j.name]!, by("ceph-fuse nopagecache").figures[j.name]!);
      const vsUnionfs = ratio(d.figures[j.name]!, by(UNIONFS).figures[j.name]!);
      return { target: name, job: j.name, vsDefault, vsNoPageCache, vsUnionfs, met: vsDefault >= 1 && vsNoPageCache >= 1 };
    }),
  );
  process.stdout.write("\ntarget: danaus >= 1x ceph-fuse (both variants) on every fio job; vs unionfs-fuse/ceph-fuse reported\n");
  printTable(
    ["danaus", "job", "vs ceph-fuse", "vs nopagecache", "vs unionfs/ceph-fuse", "met"],
    ratios.map((r) => [r.target, r.job, r.vsDefault, r.vsNoPageCache, r.vsUnionfs, r.met ? "yes" : "no"]),
  );
  const allMet = ratios.filter((r) => r.target === "danaus").every((r) => r.met);
  for (const { name } of PLACEMENTS) {
    const mine = ratios.filter((r) => r.target === name);
    process.stdout.write(`fio target for ${name}: ${mine.every((r) => r.met) ? "met" : "not met"}, ${mine.filter((r) => r.met).length} of ${mine.length} jobs at >= 1x\n`);
  }
  return {
    when: new Date().toISOString(),
    fioCpu: FIO_CPU,
    metaFiles: META_FILES,
    jobs: FIO_JOBS.map((j) => ({ name: j.name, unit: j.unit, fio: j.args.join(" ") })),
    rows,
    target: { wanted: ">= 1x ceph-fuse on every fio job", met: allMet, ratios },
  };
}

/** The start-up part: prints its table and returns its part of fuse.json. */
async function runStartupPart(conf: string, adminPath: string, base: string): Promise<StartupPart> {
  const rows = await runStartup(conf, adminPath, `${base}/startup`);
  const median = (system: string, n: number) => rows.find((r) => r.system === system && r.n === n)?.medianMs;
  const runs = (system: string, n: number) => rows.find((r) => r.system === system && r.n === n)?.runsMs.join(" ") ?? "";
  const speedups = PLACEMENTS.flatMap(({ name }) =>
    STARTUP_COUNTS.map((n) => {
      const d = median(name, n);
      const f = median(UNIONFS, n);
      const speedup = d === undefined || f === undefined ? null : ratio(f, d);
      return { target: name, n, danausMs: d ?? null, unionfsMs: f ?? null, speedup, met: speedup !== null && speedup >= STARTUP_TARGET };
    }),
  );
  process.stdout.write(`\nstart-up: N lighttpd (chroot into a union over the image) until all answer HTTP GET, cold, median of ${STARTUP_RUNS} runs (ms)\n`);
  printTable(
    ["danaus", "N", "danaus ms", "unionfs/ceph-fuse ms", "speed-up", `>= ${STARTUP_TARGET}x`, "danaus runs", "unionfs runs"],
    speedups.map((s) => [s.target, s.n, s.danausMs ?? "n/a", s.unionfsMs ?? "n/a", s.speedup ?? "n/a", s.met ? "yes" : "no", runs(s.target, s.n), runs(UNIONFS, s.n)]),
  );
  const allMet = speedups.filter((s) => s.target === "danaus").every((s) => s.met);
  for (const { name } of PLACEMENTS) {
    const mine = speedups.filter((s) => s.target === name);
    process.stdout.write(`start-up target for ${name}: ${mine.every((s) => s.met) ? "met" : "not met"} (>= ${STARTUP_TARGET}x at ${mine.filter((s) => s.met).map((s) => s.n).join(", ") || "no"} N)\n`);
  }
  return {
    when: new Date().toISOString(),
    what: "N lighttpd (Debian package, chroot into a union over an imported image, each on its own 127.0.0.1 port) from spawn until every one answers an HTTP GET; fresh mounts and dropped kernel caches before every run",
    runs: STARTUP_RUNS,
    containerCpu: navigator.hardwareConcurrency - 1,
    rows,
    target: { wanted: `>= ${STARTUP_TARGET}x faster start-up than unionfs-fuse over ceph-fuse`, met: allMet, speedups },
  };
}

/** Runs the benchmark and writes bench/results/fuse.json; DANAUS_BENCH_ONLY=fio, startup, links or mmap runs one part and keeps the others' last results. */
export async function run(): Promise<void> {
  if (process.getuid?.() !== 0 || !existsSync("/dev/fuse")) {
    process.stderr.write("bench fuse needs root and /dev/fuse (FUSE mounts)\n");
    process.exit(1);
  }
  const only = process.env.DANAUS_BENCH_ONLY;
  if (only !== undefined && only !== "fio" && only !== "startup" && only !== "links" && only !== "mmap") {
    process.stderr.write(`DANAUS_BENCH_ONLY must be fio, startup, links or mmap, found "${only}"\n`);
    process.exit(2);
  }
  const resultFile = join(import.meta.dir, "results", "fuse.json");
  const previous = readPrevious(resultFile);
  if (only === "links") {
    writeResult(resultFile, { ...previous, links: await runLinksPart() });
    return;
  }
  if (only === "mmap") {
    writeResult(resultFile, { ...previous, mmap: await runMmapPart() });
    return;
  }
  const cluster = status(process.env.DANAUS_CEPH_DIR ?? DEFAULT_CLUSTER_DIR);
  if (!cluster.usable || cluster.conf === null) {
    process.stderr.write(`bench fuse needs the Ceph cluster in ${cluster.dir}: run \`bun run ceph up\` first\n`);
    process.exit(1);
  }
  const conf = cluster.conf;
  const base = `bench-fuse-${process.pid}`;
  const started = Date.now();
  let fio = previous.fio;
  let startup = previous.startup;
  const admin = await mountCephFuse(conf);
  try {
    mkdirSync(join(admin.path, base), { recursive: true });
    if (only !== "startup") fio = await runFioPart(conf, base);
    if (only !== "fio") startup = await runStartupPart(conf, admin.path, base);
  } finally {
    // The danaus tenants' roots, the peers' directories and anything a failed target left.
    try {
      rmSync(join(admin.path, base), { recursive: true, force: true });
    } finally {
      admin.unmount();
    }
  }
  const links = await runLinksPart();
  const mmap = await runMmapPart();
  process.stdout.write(`\n(run took ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  writeResult(resultFile, { fio, startup, links, mmap });
}

function writeResult(file: string, parts: { fio?: FioPart; startup?: StartupPart; links?: LinksPart; mmap?: MmapPart }): void {
  const out = { benchmark: "fuse", when: new Date().toISOString(), serviceCpus: SERVICE_CPUS, ...parts };
  mkdirSync(join(import.meta.dir, "results"), { recursive: true });
  writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
}

/** The parts of the last fuse.json (the layout before the start-up part had the fio fields at the top level). */
function readPrevious(file: string): { fio?: FioPart; startup?: StartupPart; links?: LinksPart; mmap?: MmapPart } {
  try {
    const old = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    if ("fio" in old || "startup" in old) {
      const { fio, startup, links, mmap } = old as { fio?: FioPart; startup?: StartupPart; links?: LinksPart; mmap?: MmapPart };
      return { fio, startup, links, mmap };
    }
    return { fio: old as unknown as FioPart };
  } catch {
    return {};
  }
}
