/**
 * @module relay-probe — part of `bun run bench backend`: what a placement's extra crossings cost *in situ*, on the
 * tenant's core while the fused tenant runs a job there with libcephfs's threads, not in a hot loop (relay-floor.ts).
 * After each call of the job the probe sends a null request down one of several relay chains pinned to the tenant's
 * core (front only, front + 1 hop, front + 2 hops: the same processes as relay-floor's, taking turns in blocks of calls) and
 * times it. A chain's mean time minus the front-only chain's is what its hops add to one request of that job, in the
 * conditions the job leaves on the core (caches, libcephfs's threads still running, a front that has gone to sleep).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchFs } from "./node-fs.ts";
import { type RelayChain, startRelayChain } from "./relay-floor.ts";

/**
 * The chains take turns in blocks of this many calls, so that between two probes of one chain only the job's own call
 * ran, as between two requests of a split tenant, and not the other chains (which alone would add a third to the
 * hops' cost of a hot loop).
 */
const BLOCK = 32;

/** Per chain (by hop count), the mean time of its null requests during one job, µs (NaN if it had none), and how many there were. */
export type ProbeTimes = Record<number, { meanUs: number; calls: number }>;

/** Relay chains on the tenant's core and the per-job record of their times. */
export interface RelayProbe {
  /** `fs` with a probe request after each of its calls, charged to the job last named by {@link mark}. */
  wrap(fs: BenchFs): BenchFs;
  /** Charges the following probes to `job`; `null` stops probing (warm-up, set-up). */
  mark(job: string | null): void;
  /** What each job's probes took. */
  results(): Record<string, ProbeTimes>;
  stop(): Promise<void>;
}

/** Starts one chain per entry of `hopCounts` (0 must be among them: the front alone, the baseline) on `serviceCpu`. */
export async function startRelayProbe(hopCounts: readonly number[], serviceCpu: number): Promise<RelayProbe> {
  if (!hopCounts.includes(0)) throw new Error("relay probe: the front-only chain (0 hops) is the baseline and must be among the chains");
  const dir = mkdtempSync(join(tmpdir(), "danaus-bench-probe-"));
  const chains: RelayChain[] = [];
  try {
    for (const hops of hopCounts) chains.push(await startRelayChain(dir, "probe", hops, serviceCpu));
  } catch (error) {
    for (const chain of chains) await chain.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  // The chains' code is compiled before any job is probed.
  for (let i = 0; i < 5_000; i++) for (const chain of chains) chain.call();
  const sums = new Map<string, { totalMs: number[]; calls: number[] }>();
  let job: string | null = null;
  let next = 0;
  const probe = () => {
    if (job === null) return;
    const at = Math.floor(next++ / BLOCK) % chains.length;
    const started = performance.now();
    chains[at]!.call();
    const elapsed = performance.now() - started;
    let sum = sums.get(job);
    if (sum === undefined) sums.set(job, (sum = { totalMs: chains.map(() => 0), calls: chains.map(() => 0) }));
    sum.totalMs[at]! += elapsed;
    sum.calls[at]! += 1;
  };
  const after = <T>(value: T): T => {
    probe();
    return value;
  };
  return {
    wrap: (fs) => ({
      open: (path, flags, mode) => after(fs.open(path, flags, mode)),
      close: (fd) => after(fs.close(fd)),
      pread: (fd, into, offset) => after(fs.pread(fd, into, offset)),
      pwrite: (fd, data, offset) => after(fs.pwrite(fd, data, offset)),
      stat: (path) => after(fs.stat(path)),
      unlink: (path) => after(fs.unlink(path)),
      ftruncate: (fd, length) => after(fs.ftruncate(fd, length)),
      fsync: (fd) => after(fs.fsync(fd)),
    }),
    mark(name) {
      // The turns run on from job to job, so no chain always gets the first calls of a job (a sequential write's first
      // block of calls goes into an empty cache, its later ones meet the write-back).
      job = name;
    },
    results: () =>
      Object.fromEntries(
        [...sums].map(([name, sum]) => [
          name,
          Object.fromEntries(chains.map((chain, i) => [chain.hops, { meanUs: +((sum.totalMs[i]! * 1000) / sum.calls[i]!).toFixed(2), calls: sum.calls[i]! }])),
        ]),
      ),
    async stop() {
      try {
        for (const chain of chains) await chain.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** What `hops` hops add to one request of a job, µs: their chain's mean minus the front-only chain's. */
export function inSituExtraUs(times: ProbeTimes, hops: number): number {
  return times[hops]!.meanUs - times[0]!.meanUs;
}
