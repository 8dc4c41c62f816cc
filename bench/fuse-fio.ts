/** @module fuse-fio — the fio jobs of `bun run bench fuse` and `bun run bench preload`: one fio process per job, pinned to one core (or started as the caller says), parsed from its JSON output. */

/** The core fio runs on (the file system services get core 0). */
export const FIO_CPU = 1;

/** One fio job: its name in tables, its fio arguments, and how its figure is read from fio's JSON. */
export interface FioJob {
  readonly name: string;
  readonly unit: "MB/s" | "ops/s";
  readonly args: string[];
  /** The job's figure from the `jobs[0]` object of fio's JSON output. */
  readonly figure: (job: FioJobOutput) => number;
}

/** The part of one fio job's JSON output that is read here. */
export interface FioJobOutput {
  read: { bw_bytes: number; iops: number; total_ios: number };
  write: { bw_bytes: number; iops: number; total_ios: number };
  job_runtime: number;
  error: number;
}

const mbPerSec = (bytes: number) => Math.round(bytes / 1e6);
const perSec = (ops: number) => Math.round(ops);
/** Files of the metadata jobs; the filecreate/filestat/filedelete engines count each file as one (read) I/O. */
export const META_FILES = 2000;

/** The sizes of one set of jobs. */
export interface FioSizes {
  /** fio size of the sequential file (e.g. "256M"). */
  readonly seq: string;
  /** fio size of the random read/write file. */
  readonly rand: string;
  /** Seconds the random read/write job runs. */
  readonly randSeconds: number;
  /** Files of the metadata jobs. */
  readonly metaFiles: number;
}

const meta = (engine: string, files: number): string[] => [
  "--name=meta",
  `--ioengine=${engine}`,
  `--nrfiles=${files}`,
  "--filesize=4k",
  "--openfiles=1",
  "--fallocate=none",
  "--create_on_open=1",
];

/**
 * The jobs, in the order they run: the sequential read reads the file the sequential write left; the metadata jobs
 * create, stat, then delete the same files.
 */
export function fioJobs(sizes: FioSizes): FioJob[] {
  return [
    {
      name: "seq write 1M",
      unit: "MB/s",
      args: ["--name=seq", "--filename=seq", "--rw=write", "--bs=1M", `--size=${sizes.seq}`, "--end_fsync=1", "--ioengine=psync"],
      figure: (j) => mbPerSec(j.write.bw_bytes),
    },
    {
      name: "seq read 1M",
      unit: "MB/s",
      args: ["--name=seq", "--filename=seq", "--rw=read", "--bs=1M", `--size=${sizes.seq}`, "--ioengine=psync"],
      figure: (j) => mbPerSec(j.read.bw_bytes),
    },
    {
      name: "4k randrw 50/50",
      unit: "ops/s",
      args: ["--name=rand", "--filename=rand", "--rw=randrw", "--rwmixread=50", "--bs=4k", `--size=${sizes.rand}`, `--runtime=${sizes.randSeconds}`, "--time_based", "--ioengine=psync", "--numjobs=1"],
      figure: (j) => perSec(j.read.iops + j.write.iops),
    },
    { name: "create 4k", unit: "ops/s", args: meta("filecreate", sizes.metaFiles), figure: (j) => perSec(j.read.iops) },
    { name: "stat", unit: "ops/s", args: meta("filestat", sizes.metaFiles), figure: (j) => perSec(j.read.iops) },
    { name: "unlink", unit: "ops/s", args: meta("filedelete", sizes.metaFiles), figure: (j) => perSec(j.read.iops) },
  ];
}

/** The jobs of `bun run bench fuse`: a 256 MiB sequential file, 64 MiB for 10 s of random read/write. */
export const FIO_JOBS: readonly FioJob[] = fioJobs({ seq: "256M", rand: "64M", randSeconds: 10, metaFiles: META_FILES });

/** How fio is started: the argv before `fio` (default: pinned to {@link FIO_CPU} with taskset) and extra environment. */
export interface FioLaunch {
  readonly prefix?: readonly string[];
  readonly env?: Record<string, string>;
}

/**
 * Runs one job in `dir` (pinned to {@link FIO_CPU}, or started as `launch` says) and returns its figure; throws if fio
 * fails or reports an error.
 */
export function runFio(dir: string, job: FioJob, launch: FioLaunch = {}): { figure: number; output: FioJobOutput } {
  const prefix = launch.prefix ?? ["taskset", "-c", String(FIO_CPU)];
  const argv = [...prefix, "fio", `--directory=${dir}`, "--output-format=json", ...job.args];
  const env = launch.env ? { ...process.env, ...launch.env } : undefined;
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", timeout: 180_000, env });
  if (r.exitCode !== 0) throw new Error(`fio ${job.name} in ${dir} exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
  const text = r.stdout.toString();
  // fio may print notes before the JSON document.
  const parsed = JSON.parse(text.slice(text.indexOf("{"))) as { jobs: FioJobOutput[] };
  const output = parsed.jobs[0];
  if (!output) throw new Error(`fio ${job.name}: no job in its output`);
  if (output.error !== 0) throw new Error(`fio ${job.name}: job error ${output.error}`);
  return { figure: job.figure(output), output };
}
