/**
 * @module load — the noise a stress round runs next to: one CPU hog pinned to each core (a busy shell loop) and an I/O
 * load (fio random read/write on a scratch directory). Stopped by pid.
 */
import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";

/** The running noise. */
export interface Noise {
  readonly pids: number[];
  /** The I/O load's scratch directory (removed by stop). */
  readonly scratch: string;
  stop(): Promise<void>;
}

/** Starts a hog on every core and, when fio is installed, an I/O load in a fresh scratch directory. */
export function startNoise(): Noise {
  const scratch = mkdtempSync(join(tmpdir(), "danaus-stress-io-"));
  const procs: Subprocess[] = [];
  for (let cpu = 0; cpu < availableParallelism(); cpu++) {
    procs.push(Bun.spawn(["taskset", "-c", String(cpu), "sh", "-c", "while :; do :; done"], { stdio: ["ignore", "ignore", "ignore"] }));
  }
  if (Bun.which("fio") !== null) {
    // --thread: fio runs its job as a thread of the process we start, so stopping that pid stops the I/O. By default it
    // forks the job, and a SIGKILL of the parent left the job writing for the rest of its day-long runtime.
    procs.push(Bun.spawn(
      ["fio", "--name=stress-io", "--thread", `--directory=${scratch}`, "--rw=randrw", "--bs=4k", "--size=64m", "--ioengine=psync", "--time_based", "--runtime=86400", "--fsync=32"],
      { stdio: ["ignore", "ignore", "ignore"] },
    ));
  }
  return {
    pids: procs.map((p) => p.pid),
    scratch,
    async stop() {
      for (const proc of procs) proc.kill("SIGKILL");
      await Promise.all(procs.map((p) => p.exited));
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
