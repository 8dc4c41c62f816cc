/**
 * @module fuse-mmap — shared-mmap reads, part of `bun run bench fuse` (`DANAUS_BENCH_ONLY=mmap` runs only it, without
 * the cluster): fio's `mmap` engine (it maps the file `MAP_SHARED`) reading one 64 MiB file sequentially in 1 MiB
 * blocks and at random in 4 KiB blocks (every block once: each read may fault), on fuse-legacy serving a local directory with direct I/O (the tenants'
 * default: mapping works through `FUSE_DIRECT_IO_ALLOW_MMAP`) and with the page cache (`directIo = false`), against the
 * host directory itself; plus `psync` reads of the same file on the direct-I/O mount, the path a program takes
 * without mmap. Every job runs on a fresh mount (the host's copy is dropped from the page cache first), so each
 * starts with none of the file's pages in the kernel; fio runs on core 1.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FuseServer } from "../services/fuse-legacy/server/index.ts";
import { FIO_CPU, runFio, type FioJob } from "./fuse-fio.ts";
import { printTable } from "./stats.ts";

const OPENER = new URL("./fuse-links-opener.ts", import.meta.url).pathname;
/** Size of the mapped file. */
const FILE_MIB = 64;
/** Fresh-mount runs per target; the median is reported. */
const RUNS = Number(process.env.DANAUS_BENCH_MMAP_RUNS ?? 3);

const job = (name: string, engine: string, rw: string, bs: string, unit: FioJob["unit"]): FioJob => ({
  name,
  unit,
  args: ["--name=map", "--filename=mapped", `--ioengine=${engine}`, `--rw=${rw}`, `--bs=${bs}`, `--size=${FILE_MIB}M`],
  figure: (j) => (unit === "MB/s" ? Math.round(j.read.bw_bytes / 1e6) : Math.round(j.read.iops)),
});

/** The jobs of a target: mmap sequential and random reads, and (on the direct-I/O mount only) the same by pread. */
const MMAP_JOBS = [job("mmap seq read 1M", "mmap", "read", "1M", "MB/s"), job("mmap rand read 4k", "mmap", "randread", "4k", "ops/s")];
const PREAD_JOBS = [job("pread seq read 1M", "psync", "read", "1M", "MB/s"), job("pread rand read 4k", "psync", "randread", "4k", "ops/s")];

/** One row: a target and a job, its median figure and every run's. */
export interface MmapRow {
  target: string;
  job: string;
  unit: string;
  median: number;
  runs: number[];
}

/** fuse.json's shared-mmap part. */
export interface MmapPart {
  when: string;
  what: string;
  fileMiB: number;
  rows: MmapRow[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Runs each of `jobs` RUNS times, each time in a directory `at(id)` gives (a fresh mount: cold pages), cleaned up by the returned stop. */
async function measure(target: string, jobs: readonly FioJob[], at: (id: string) => Promise<{ dir: string; stop: () => Promise<void> }>): Promise<MmapRow[]> {
  const runs = jobs.map(() => [] as number[]);
  for (let run = 0; run < RUNS; run++) {
    for (const [i, j] of jobs.entries()) {
      const { dir, stop } = await at(`${run}-${i}`);
      try {
        runs[i]!.push(runFio(dir, j).figure);
      } finally {
        await stop();
      }
    }
  }
  return jobs.map((j, i) => ({ target, job: j.name, unit: j.unit, median: median(runs[i]!), runs: runs[i]! }));
}

/** Runs the shared-mmap part; prints its table and returns its part of fuse.json. */
export async function runMmapPart(): Promise<MmapPart> {
  const base = mkdtempSync(join(tmpdir(), "danaus-bench-mmap-"));
  try {
    const served = join(base, "served");
    mkdirSync(served);
    const bytes = new Uint8Array(FILE_MIB << 20);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i & 0xff;
    writeFileSync(join(served, "mapped"), bytes);
    const mounted = (directIo: boolean) => async (id: string) => {
      const mountPoint = join(base, `mnt-${directIo ? "direct" : "cached"}-${id}`);
      mkdirSync(mountPoint);
      const server = await FuseServer.start({ mountPoint, opener: { module: OPENER, spec: { root: served } }, directIo, attrTimeoutMs: 1000, entryTimeoutMs: 1000 });
      return { dir: mountPoint, stop: async () => void (await server.stop()) };
    };
    const host = async () => {
      // Drop the file's pages so the host reads it cold as well (POSIX_FADV_DONTNEED through dd's nocache).
      Bun.spawnSync(["dd", `if=${join(served, "mapped")}`, "iflag=nocache", "count=0", "status=none"]);
      return { dir: served, stop: async () => {} };
    };
    const rows = [
      ...(await measure("fuse-legacy, directIo (ALLOW_MMAP)", [...MMAP_JOBS, ...PREAD_JOBS], mounted(true))),
      ...(await measure("fuse-legacy, page cache", MMAP_JOBS, mounted(false))),
      ...(await measure("host directory", MMAP_JOBS, host)),
    ];
    process.stdout.write(`\nshared mmap: fio's mmap engine (MAP_SHARED) reading a ${FILE_MIB} MiB file, fresh mount per job, fio on core ${FIO_CPU} (median of ${RUNS})\n`);
    printTable(["target", "job", "median", "unit", "runs"], rows.map((r) => [r.target, r.job, r.median, r.unit, r.runs.join(" ")]));
    return {
      when: new Date().toISOString(),
      what: "fio --ioengine=mmap (MAP_SHARED) reads of one file on fuse-legacy over a local directory (directIo with FUSE_DIRECT_IO_ALLOW_MMAP, and page cache) and on the host directory; psync reads on the directIo mount for reference",
      fileMiB: FILE_MIB,
      rows,
    };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
