/** @module fuse-fio — the fio jobs of `bun run bench fuse`: one fio process per job, pinned to one core, parsed from its JSON output. */

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
const meta = (engine: string): string[] => [
  "--name=meta",
  `--ioengine=${engine}`,
  `--nrfiles=${META_FILES}`,
  "--filesize=4k",
  "--openfiles=1",
  "--fallocate=none",
  "--create_on_open=1",
];

/** The jobs, in the order they run: the sequential read reads the file the sequential write left; the metadata jobs create, stat, then delete the same files. */
export const FIO_JOBS: readonly FioJob[] = [
  {
    name: "seq write 1M",
    unit: "MB/s",
    args: ["--name=seq", "--filename=seq", "--rw=write", "--bs=1M", "--size=256M", "--end_fsync=1", "--ioengine=psync"],
    figure: (j) => mbPerSec(j.write.bw_bytes),
  },
  {
    name: "seq read 1M",
    unit: "MB/s",
    args: ["--name=seq", "--filename=seq", "--rw=read", "--bs=1M", "--size=256M", "--ioengine=psync"],
    figure: (j) => mbPerSec(j.read.bw_bytes),
  },
  {
    name: "4k randrw 50/50",
    unit: "ops/s",
    args: ["--name=rand", "--filename=rand", "--rw=randrw", "--rwmixread=50", "--bs=4k", "--size=64M", "--runtime=10", "--time_based", "--ioengine=psync", "--numjobs=1"],
    figure: (j) => perSec(j.read.iops + j.write.iops),
  },
  { name: "create 4k", unit: "ops/s", args: meta("filecreate"), figure: (j) => perSec(j.read.iops) },
  { name: "stat", unit: "ops/s", args: meta("filestat"), figure: (j) => perSec(j.read.iops) },
  { name: "unlink", unit: "ops/s", args: meta("filedelete"), figure: (j) => perSec(j.read.iops) },
];

/** Runs one job in `dir` (pinned to {@link FIO_CPU}) and returns its figure; throws if fio fails or reports an error. */
export function runFio(dir: string, job: FioJob): { figure: number; output: FioJobOutput } {
  const argv = ["taskset", "-c", String(FIO_CPU), "fio", `--directory=${dir}`, "--output-format=json", ...job.args];
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", timeout: 180_000 });
  if (r.exitCode !== 0) throw new Error(`fio ${job.name} in ${dir} exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
  const text = r.stdout.toString();
  // fio may print notes before the JSON document.
  const parsed = JSON.parse(text.slice(text.indexOf("{"))) as { jobs: FioJobOutput[] };
  const output = parsed.jobs[0];
  if (!output) throw new Error(`fio ${job.name}: no job in its output`);
  if (output.error !== 0) throw new Error(`fio ${job.name}: job error ${output.error}`);
  return { figure: job.figure(output), output };
}
