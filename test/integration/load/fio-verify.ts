/** @module fio-verify — fio's 4 KiB random read/write with verification on a mount, paced, pinned to one core, as a child process. */
import type { Subprocess } from "bun";

/** What one fio run did: its calls, completion latencies (ms) and how it ended. */
export interface FioResult {
  readonly exitCode: number;
  /** fio's job error (an errno), 0 when none. */
  readonly error: number;
  readonly reads: number;
  readonly writes: number;
  readonly readP50Ms: number;
  readonly readP99Ms: number;
  readonly writeP50Ms: number;
  readonly writeP99Ms: number;
  /** fio's stderr (where it prints verify failures and I/O errors), trimmed. */
  readonly stderr: string;
}

/** Options of one run. */
export interface FioVerifyOptions {
  readonly dir: string;
  readonly cpu: number;
  readonly seconds: number;
  /** Reads and writes per second each. */
  readonly iopsEach: number;
  readonly fileBytes: number;
  readonly name?: string;
}

/** The fio command line: 50/50 random 4 KiB, crc32c verification of written blocks as it goes, first bad block fatal. */
export function fioVerifyArgv(o: FioVerifyOptions): string[] {
  return [
    "taskset", "-c", String(o.cpu), "fio", `--directory=${o.dir}`, `--name=${o.name ?? "fio-verify"}`, `--filename=${o.name ?? "fio-verify"}`,
    "--rw=randrw", "--rwmixread=50", "--bs=4k", `--size=${o.fileBytes}`, "--ioengine=psync",
    "--verify=crc32c", "--verify_backlog=64", "--verify_fatal=1", "--verify_state_save=0",
    "--time_based", `--runtime=${o.seconds}`, `--rate_iops=${o.iopsEach},${o.iopsEach}`, "--output-format=json",
  ];
}

const ms = (ns: number | undefined) => (ns === undefined ? NaN : Math.round(ns / 1e3) / 1e3);

/** Starts fio; the promise ends with its result (an exit without JSON output gives NaN latencies and its stderr). */
export function runFioVerify(o: FioVerifyOptions): { proc: Subprocess; result: Promise<FioResult> } {
  const proc = Bun.spawn(fioVerifyArgv(o), { stdout: "pipe", stderr: "pipe" });
  const result = (async (): Promise<FioResult> => {
    const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    type Side = { total_ios: number; clat_ns?: { percentile?: Record<string, number> } };
    let job: { error: number; read: Side; write: Side } | undefined;
    try {
      job = (JSON.parse(stdout.slice(stdout.indexOf("{"))) as { jobs: (typeof job)[] }).jobs[0];
    } catch {
      job = undefined;
    }
    const pct = (side: Side | undefined, p: string) => ms(side?.clat_ns?.percentile?.[p]);
    return {
      exitCode,
      error: job?.error ?? -1,
      reads: job?.read.total_ios ?? 0,
      writes: job?.write.total_ios ?? 0,
      readP50Ms: pct(job?.read, "50.000000"),
      readP99Ms: pct(job?.read, "99.000000"),
      writeP50Ms: pct(job?.write, "50.000000"),
      writeP99Ms: pct(job?.write, "99.000000"),
      stderr: stderr.trim().slice(-2000),
    };
  })();
  return { proc, result };
}
