/**
 * @module fuse — `bun run bench fuse`: the kernel path of danaus (a tenant mount with `legacy = true`, served by
 * fuse-legacy forwarding into the tenant service on libcephfs, under a real supervisor) against ceph-fuse on the same
 * cluster (default, and with --fuse_disable_pagecache=true), with the same fio jobs for all: 1 MiB sequential
 * write/read, 4 KiB random read/write, create/stat/unlink of small files. Every service runs on core 0, fio on core 1.
 * Needs root, /dev/fuse and the cluster: `bun run ceph up`.
 */
import { isMountPoint } from "../kernel/sys/mounts.ts";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_CLUSTER_DIR, status } from "../scripts/ceph/index.ts";
import { Harness, waitFor } from "../test/integration/harness.ts";
import { mountCephFuse } from "./ceph-fuse.ts";
import { FIO_CPU, FIO_JOBS, META_FILES, runFio } from "./fuse-fio.ts";
import { printTable } from "./stats.ts";

/** The file system services (the danaus tenant, each ceph-fuse daemon) get core 0, as a tenant pool would. */
const SERVICE_CPUS = [0];

/** One mounted system under test. */
interface Target {
  readonly name: string;
  /** The directory fio works in. */
  readonly dir: string;
  close(): Promise<void>;
}

/** What one target measured: job name → figure. */
interface Row {
  target: string;
  figures: Record<string, number>;
}

async function danausTarget(conf: string, root: string): Promise<Target> {
  const base = mkdtempSync(join(tmpdir(), "danaus-bench-fuse-"));
  const mnt = join(base, "mnt");
  const tenant = [
    `name = "alpha"`,
    `cpus = [${SERVICE_CPUS.join(", ")}]`,
    `memory = "1GiB"`,
    `[backend]`,
    `kind = "cephfs"`,
    `conf = ${JSON.stringify(conf)}`,
    `root = ${JSON.stringify(root)}`,
    `[[mounts]]`,
    `path = ${JSON.stringify(mnt)}`,
    `source = "data"`,
    `legacy = true`,
  ].join("\n");
  const h = new Harness({ tenants: { alpha: tenant } });
  const close = async () => {
    try {
      await h.stop();
    } finally {
      if (isMountPoint(mnt)) Bun.spawnSync(["umount", "-l", mnt]);
      rmSync(base, { recursive: true, force: true });
    }
  };
  try {
    await h.start(["alpha"]);
    await waitFor("the danaus FUSE mount", () => isMountPoint(mnt), 30_000);
    const dir = join(mnt, "fio");
    mkdirSync(dir, { recursive: true });
    return { name: "danaus", dir, close };
  } catch (error) {
    await close();
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

function measure(target: Target): Row {
  const figures: Record<string, number> = {};
  for (const job of FIO_JOBS) {
    process.stderr.write(`  ${target.name}: ${job.name}\n`);
    figures[job.name] = runFio(target.dir, job).figure;
  }
  return { target: target.name, figures };
}

/** Runs the benchmark and writes bench/results/fuse.json. */
export async function run(): Promise<void> {
  if (process.getuid?.() !== 0 || !existsSync("/dev/fuse")) {
    process.stderr.write("bench fuse needs root and /dev/fuse (FUSE mounts)\n");
    process.exit(1);
  }
  const cluster = status(process.env.DANAUS_CEPH_DIR ?? DEFAULT_CLUSTER_DIR);
  if (!cluster.usable || cluster.conf === null) {
    process.stderr.write(`bench fuse needs the Ceph cluster in ${cluster.dir}: run \`bun run ceph up\` first\n`);
    process.exit(1);
  }
  const conf = cluster.conf;
  const base = `bench-fuse-${process.pid}`;
  const started = Date.now();
  const rows: Row[] = [];
  try {
    const makers: (() => Promise<Target>)[] = [
      () => danausTarget(conf, `/${base}`),
      () => cephFuseTarget("ceph-fuse", conf, [], `${base}/fuse-default`),
      () => cephFuseTarget("ceph-fuse nopagecache", conf, ["--fuse_disable_pagecache=true"], `${base}/fuse-nopc`),
    ];
    for (const make of makers) {
      const target = await make();
      try {
        rows.push(measure(target));
      } finally {
        await target.close();
      }
    }
  } finally {
    // The danaus tenant's root (and anything a failed target left) goes through a fresh admin mount.
    const admin = await mountCephFuse(conf);
    try {
      rmSync(join(admin.path, base), { recursive: true, force: true });
    } finally {
      admin.unmount();
    }
  }
  const jobs = FIO_JOBS.map((j) => `${j.name} ${j.unit}`);
  printTable(["target", ...jobs], rows.map((r) => [r.target, ...FIO_JOBS.map((j) => r.figures[j.name]!)]));
  const by = (name: string) => rows.find((r) => r.target === name)!;
  const d = by("danaus");
  const ratio = (a: number, b: number) => +(a / b).toFixed(2);
  const ratios = FIO_JOBS.map((j) => {
    const vsDefault = ratio(d.figures[j.name]!, by("ceph-fuse").figures[j.name]!);
    const vsNoPageCache = ratio(d.figures[j.name]!, by("ceph-fuse nopagecache").figures[j.name]!);
    return { job: j.name, vsDefault, vsNoPageCache, met: vsDefault >= 1 && vsNoPageCache >= 1 };
  });
  process.stdout.write("\ntarget: danaus >= 1x ceph-fuse (both variants) on every fio job\n");
  printTable(
    ["job", "vs ceph-fuse", "vs nopagecache", "met"],
    ratios.map((r) => [r.job, r.vsDefault, r.vsNoPageCache, r.met ? "yes" : "no"]),
  );
  const allMet = ratios.every((r) => r.met);
  process.stdout.write(`\ntarget ${allMet ? "met" : "not met"}: ${ratios.filter((r) => r.met).length} of ${ratios.length} jobs at >= 1x (run took ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  const out = {
    benchmark: "fuse",
    when: new Date().toISOString(),
    serviceCpus: SERVICE_CPUS,
    fioCpu: FIO_CPU,
    metaFiles: META_FILES,
    jobs: FIO_JOBS.map((j) => ({ name: j.name, unit: j.unit, fio: j.args.join(" ") })),
    rows,
    target: { wanted: ">= 1x ceph-fuse on every fio job", met: allMet, ratios },
  };
  mkdirSync(join(import.meta.dir, "results"), { recursive: true });
  writeFileSync(join(import.meta.dir, "results", "fuse.json"), JSON.stringify(out, null, 2) + "\n");
}

