/**
 * @module ipc-topology — the per-topology part of `bun run bench ipc` (issue 14): the same union mount of a tenant
 * (one core, its service threads on core 0, the client on the last core) served with the data services in one
 * process (the default), with the router apart from one data process, and fully split (router → union → client-cache
 * over shared-memory channels). Each runs under a real supervisor, one after the other, on the same operations.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Harness } from "../test/integration/harness.ts";
import { drive, type DriveRequest, type DriveResult } from "./ipc-driver.ts";
import { summary } from "./stats.ts";

/** The placements compared, with their names in the table and the processes a request crosses beyond the router's. */
export const TOPOLOGIES = [
  { name: "fused (default)", topology: `[["client-cache", "union", "ipc-router"]]`, hops: 0 },
  { name: "router + data process", topology: `[["ipc-router"], ["union", "client-cache"]]`, hops: 1 },
  { name: "fully split", topology: `[["ipc-router"], ["union"], ["client-cache"]]`, hops: 2 },
] as const;

/** One measured operation under one topology. */
export interface TopologyRow {
  readonly topology: string;
  readonly test: DriveRequest["test"];
  readonly median: number;
  readonly p99: number;
  readonly opsPerSec1: number;
  readonly mbPerSec1: number | null;
}

const TESTS = ["null", "read4k", "read1m", "meta"] as const;

/** Measures {@link TESTS} on the union mount of a tenant under each of {@link TOPOLOGIES}. */
export async function measureTopologies(phaseMs: number, clientCpu: number, log: (line: string) => void): Promise<TopologyRow[]> {
  const rows: TopologyRow[] = [];
  for (const { name, topology } of TOPOLOGIES) {
    const tenant = [
      `name = "bench"`, `cpus = [0]`, `memory = "1GiB"`, `shareCpus = true`, `topology = ${topology}`,
      `[backend]`, `kind = "local"`, `root = "backends/bench"`,
      `[[mounts]]`, `path = "/mnt/bench/union"`, `upper = "upper"`, `lowers = ["lower"]`,
    ].join("\n");
    const h = new Harness({ tenants: { bench: tenant } });
    mkdirSync(join(h.dir, "state", "backends", "bench", "lower"), { recursive: true });
    await h.start(["bench"]);
    try {
      const base = { durationMs: phaseMs, runDir: join(h.dir, "state", "run", "bench"), backendDir: "", cpu: clientCpu, tag: "t", via: "ring" as const };
      for (const test of TESTS) {
        log(`  ${test} via ring, ${name}`);
        const latency: DriveResult = drive({ ...base, test, sample: true });
        const one: DriveResult = drive({ ...base, test, sample: false });
        const { median, p99 } = summary(latency.latenciesUs);
        rows.push({ topology: name, test, median, p99, opsPerSec1: Math.round(one.ops / one.seconds), mbPerSec1: one.bytes > 0 ? Math.round(one.bytes / one.seconds / 1e6) : null });
      }
    } finally {
      await h.stop();
    }
  }
  return rows;
}
