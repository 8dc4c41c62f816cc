/**
 * @module crossing-floor — part of `bun run bench ipc`: the least time a request can take through each topology's
 * chain of processes on a one-core tenant, measured with crossing-floor.c (compiled here with cc): a client on its
 * own core, a front process spinning for it on the tenant's core, and 0, 1 or 2 more processes on that core woken one
 * after the other by futexes (fused, router + one data process, fully split). Nothing else runs in them, so no
 * implementation of those topologies on one core can answer faster.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { quantile } from "./stats.ts";

/** Requests per run. */
const REQUESTS = 20_000;
/** Runs per hop count; the median run is reported. */
const RUNS = 5;

/** The floor of one chain length. */
export interface FloorRow {
  /** Processes beyond the front. */
  readonly hops: number;
  /** Median over the runs of each run's median round trip, µs. */
  readonly medianUs: number;
  /** The same for each run's 99th percentile, µs. */
  readonly p99Us: number;
}

const median = (values: number[]) => quantile(values, 0.5);

/** Measures the floor of chains of `hopCounts` processes beyond the front, the front on `serviceCpu`, the client on `clientCpu`. */
export function measureFloors(hopCounts: readonly number[], serviceCpu: number, clientCpu: number): FloorRow[] {
  const dir = mkdtempSync(join(tmpdir(), "danaus-bench-floor-"));
  try {
    const exe = join(dir, "crossing-floor");
    const cc = Bun.spawnSync(["cc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-o", exe, join(import.meta.dir, "crossing-floor.c")], { stderr: "pipe" });
    if (cc.exitCode !== 0) throw new Error(`cc crossing-floor.c: ${cc.stderr.toString().trim()}`);
    const runs = new Map<number, { median: number[]; p99: number[] }>(hopCounts.map((h) => [h, { median: [], p99: [] }]));
    // Rounds over the chain lengths, so a noisy moment of the machine spreads over all of them.
    for (let round = 0; round < RUNS; round++) {
      for (const hops of hopCounts) {
        const r = Bun.spawnSync([exe, String(hops), String(serviceCpu), String(clientCpu), String(REQUESTS)], { stdout: "pipe", stderr: "pipe", timeout: 60_000 });
        const [medianNs, p99Ns] = r.stdout.toString().trim().split(" ").map(Number);
        if (r.exitCode !== 0 || !Number.isFinite(medianNs) || !Number.isFinite(p99Ns)) {
          throw new Error(`crossing-floor ${hops}: exit ${r.exitCode}, ${r.stderr.toString().trim() || r.stdout.toString().trim()}`);
        }
        runs.get(hops)!.median.push(medianNs! / 1000);
        runs.get(hops)!.p99.push(p99Ns! / 1000);
      }
    }
    return hopCounts.map((hops) => ({ hops, medianUs: +median(runs.get(hops)!.median).toFixed(2), p99Us: +median(runs.get(hops)!.p99).toFixed(2) }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
