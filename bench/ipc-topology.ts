/**
 * @module ipc-topology — the per-topology part of `bun run bench ipc` (issue 14): the same union mount of a tenant
 * (one core, its service threads on core 0, the client on the last core) served with the data services in one
 * process (the default), with the router apart from one data process, and fully split (router → union → client-cache
 * over shared-memory channels). Each runs under a real supervisor, one after the other, on the same operations.
 *
 * Beside each throughput phase it reads what every process of the tenant published (server-counters.ts): how many
 * requests each answered per operation of the client, and its time per request, which includes what it waited for in
 * the processes below. A process's time minus the next one's is what that process and its crossing cost.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Harness, settledRequestCounts, type RequestCounts } from "../test/integration/harness.ts";
import { drive, type DriveRequest, type DriveResult } from "./ipc-driver.ts";
import { summary } from "./stats.ts";

/** The placements compared, with their names in the table and the processes a request crosses beyond the router's. */
export const TOPOLOGIES = [
  { name: "fused (default)", topology: `[["client-cache", "union", "ipc-router"]]`, hops: 0 },
  { name: "router + data process", topology: `[["ipc-router"], ["union", "client-cache"]]`, hops: 1 },
  { name: "fully split", topology: `[["ipc-router"], ["union"], ["client-cache"]]`, hops: 2 },
] as const;

/** The data services that may run a ring server of their own, front first. */
export const SERVERS = ["ipc-router", "union", "client-cache"] as const;

/** What one process did for the client's operations in a throughput phase. */
export interface ProcessTime {
  /** Requests it answered per operation of the client. */
  readonly requestsPerOp: number;
  /** Its mean time per request, µs (from taking the request to answering it, with any wait for the process below). */
  readonly usPerRequest: number;
}

/** One measured operation under one topology. */
export interface TopologyRow {
  readonly topology: string;
  readonly test: DriveRequest["test"];
  readonly median: number;
  readonly p99: number;
  readonly opsPerSec1: number;
  readonly mbPerSec1: number | null;
  /** By service, the processes of the topology that run a server (see {@link SERVERS}). */
  readonly processes: Partial<Record<(typeof SERVERS)[number], ProcessTime>>;
}

/** What each process did for `ops` operations of the client (its warm-up included), from the counts before and after. */
function processTimes(before: RequestCounts, after: RequestCounts, ops: number): TopologyRow["processes"] {
  const out: TopologyRow["processes"] = {};
  for (const service of SERVERS) {
    const [b, a] = [before[service], after[service]];
    if (b === undefined || a === undefined || ops === 0) continue;
    const requests = a.requests - b.requests;
    out[service] = { requestsPerOp: +(requests / ops).toFixed(2), usPerRequest: requests === 0 ? 0 : +((a.busyMicros - b.busyMicros) / requests).toFixed(2) };
  }
  return out;
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
        // Only the services that run a server of their own publish counts (union does not in the fused topology).
        const counts = () => settledRequestCounts(base.runDir, SERVERS, (c) => c["ipc-router"] !== undefined, 20_000);
        const before = await counts();
        const one: DriveResult = drive({ ...base, test, sample: false });
        const processes = processTimes(before, await counts(), one.warmupOps + one.ops);
        const { median, p99 } = summary(latency.latenciesUs);
        rows.push({ topology: name, test, median, p99, opsPerSec1: Math.round(one.ops / one.seconds), mbPerSec1: one.bytes > 0 ? Math.round(one.bytes / one.seconds / 1e6) : null, processes });
      }
    } finally {
      await h.stop();
    }
  }
  return rows;
}
