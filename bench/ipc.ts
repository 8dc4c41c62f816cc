/**
 * @module ipc — `bun run bench ipc`: the data path's transport costs. The same router (service threads pinned to core
 * 0) is reached through the shared-memory ring and through its Unix stream socket (same dispatcher, other transport),
 * and the same operations run directly with node:fs on the backend directory; clients run on the last core.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTestRouter } from "../test/services/ipc-router/router-harness.ts";
import { drive, type DriveRequest, type DriveResult, type Via } from "./ipc-driver.ts";
import { measureFloors } from "./crossing-floor.ts";
import { measureRelayFloors } from "./relay-floor.ts";
import { measureTopologies, SERVERS, TOPOLOGIES, type TopologyRow } from "./ipc-topology.ts";
import { printTable, summary } from "./stats.ts";

const PHASE_MS = Number(process.env.DANAUS_BENCH_MS ?? 2000);
const CLIENT_CPU = Math.max(0, navigator.hardwareConcurrency - 1);

/** Runs `request` in `threads` client threads at once (Workers when more than one); sums their results. */
async function measure(request: DriveRequest, threads: number): Promise<DriveResult> {
  process.stderr.write(`  ${request.test} via ${request.via}, ${threads} thread(s)${request.sample ? ", sampling latency" : ""}\n`);
  if (threads === 1) return drive(request);
  const results = await Promise.all(
    Array.from({ length: threads }, (_, i) => {
      const worker = new Worker(new URL("./ipc-worker.ts", import.meta.url).href);
      return new Promise<DriveResult>((resolve) => {
        worker.onmessage = (event: MessageEvent<DriveResult>) => {
          worker.terminate();
          resolve(event.data);
        };
        worker.postMessage({ ...request, tag: `${request.tag}-${i}` });
      });
    }),
  );
  const seconds = Math.max(...results.map((r) => r.seconds));
  return { ops: results.reduce((n, r) => n + r.ops, 0), warmupOps: results.reduce((n, r) => n + r.warmupOps, 0), bytes: results.reduce((n, r) => n + r.bytes, 0), seconds, latenciesUs: results.flatMap((r) => r.latenciesUs) };
}

/** Runs the benchmark and writes bench/results/ipc.json. */
export async function run(): Promise<void> {
  const router = await startTestRouter({ mounts: 1, cpus: [0] });
  const rows: Record<string, unknown>[] = [];
  const base = { durationMs: PHASE_MS, runDir: router.runtime.runDir, backendDir: join(router.backendRoot, "m0"), cpu: CLIENT_CPU, tag: "t", sample: false };
  const vias: Via[] = ["ring", "socket", "node:fs"];
  try {
    for (const via of ["ring", "socket"] as const) {
      const latency = await measure({ ...base, via, test: "null", sample: true }, 1);
      const one = await measure({ ...base, via, test: "null" }, 1);
      const two = await measure({ ...base, via, test: "null" }, 2);
      rows.push({ test: "null op", via, ...summary(latency.latenciesUs), opsPerSec1: Math.round(one.ops / one.seconds), opsPerSec2: Math.round(two.ops / two.seconds) });
    }
    for (const test of ["read4k", "write4k", "read1m", "write1m", "meta"] as const) {
      for (const via of vias) {
        const latency = await measure({ ...base, via, test, sample: true }, 1);
        const one = await measure({ ...base, via, test }, 1);
        rows.push({
          test,
          via,
          ...summary(latency.latenciesUs),
          opsPerSec1: Math.round(one.ops / one.seconds),
          mbPerSec1: one.bytes > 0 ? Math.round(one.bytes / one.seconds / 1e6) : null,
        });
      }
    }
  } finally {
    await router.stop();
  }
  const topologies: TopologyRow[] = await measureTopologies(PHASE_MS, CLIENT_CPU, (line) => process.stderr.write(line + "\n"));
  process.stderr.write("  crossing floor: processes on one core that do nothing but pass a request on\n");
  const floors = measureFloors(TOPOLOGIES.map((t) => t.hops), 0, CLIENT_CPU);
  const floorOf = (hops: number) => floors.find((f) => f.hops === hops)!;
  process.stderr.write("  crossing floor: the same chains as Bun processes passing a request on with the project's ring code\n");
  const relayFloors = await measureRelayFloors(TOPOLOGIES.map((t) => t.hops), 0);
  const relayFloorOf = (hops: number) => relayFloors.find((f) => f.hops === hops)!;
  const byTopology = (test: string, name: string) => topologies.find((r) => r.test === test && r.topology === name)!;
  const fused = TOPOLOGIES[0].name;
  const split = TOPOLOGIES[2].name;
  const find = (test: string, via: string) => rows.find((r) => r.test === test && r.via === via) as { median: number; opsPerSec1: number; mbPerSec1: number | null };
  const targets = {
    nullRoundTripMedianUs: { target: "<= 2", reached: find("null op", "ring").median },
    ringVsSocketNullSpeedup: { target: ">= 10", reached: +(find("null op", "socket").median / find("null op", "ring").median).toFixed(2) },
    read1mGBps: { target: ">= 4", reached: +((find("read1m", "ring").mbPerSec1 ?? 0) / 1000).toFixed(2) },
    metaVsNodeFs: { target: ">= 0.5", reached: +(find("meta", "ring").opsPerSec1 / find("meta", "node:fs").opsPerSec1).toFixed(2) },
    splitVsFusedRead4kMedian: { target: "<= 1.5", reached: +(byTopology("read4k", split).median / byTopology("read4k", fused).median).toFixed(2) },
    // What the target can reach on a one-core tenant: the fully split chain's bare crossings alone against the fused read.
    splitFloorVsFusedRead4kMedian: { target: "(report)", reached: +(floorOf(TOPOLOGIES[2].hops).medianUs / byTopology("read4k", fused).median).toFixed(2) },
    // The same for Bun processes, as the services are: what is left above it is the services' own work.
    splitTsFloorVsFusedRead4kMedian: { target: "(report)", reached: +(relayFloorOf(TOPOLOGIES[2].hops).medianUs / byTopology("read4k", fused).median).toFixed(2) },
  };
  printTable(
    ["test", "via", "median µs", "p99 µs", "ops/s 1 thr", "ops/s 2 thr", "MB/s"],
    rows.map((r) => [String(r.test), String(r.via), String(r.median), String(r.p99), String(r.opsPerSec1), String(r.opsPerSec2 ?? "-"), String(r.mbPerSec1 ?? "-")]),
  );
  process.stdout.write("\nthe same union mount under each topology (ring, 1 client thread):\n");
  printTable(
    ["test", ...TOPOLOGIES.map((t) => `${t.name} median µs`), ...TOPOLOGIES.map((t) => `${t.name} ops/s`)],
    [
      ...["null", "read4k", "read1m", "meta"].map((test) => [test, ...TOPOLOGIES.map((t) => String(byTopology(test, t.name).median)), ...TOPOLOGIES.map((t) => String(byTopology(test, t.name).opsPerSec1))]),
      ["crossing floor (C)", ...TOPOLOGIES.map((t) => String(floorOf(t.hops).medianUs)), ...TOPOLOGIES.map((t) => String(Math.round(1e6 / floorOf(t.hops).medianUs)))],
      ["crossing floor (TypeScript)", ...TOPOLOGIES.map((t) => String(relayFloorOf(t.hops).medianUs)), ...TOPOLOGIES.map((t) => String(Math.round(1e6 / relayFloorOf(t.hops).medianUs)))],
    ],
  );
  process.stdout.write("\ntime per request inside each process, µs, with what it waited for below (requests per client operation):\n");
  printTable(
    ["test", "topology", ...SERVERS],
    topologies.map((r) => [r.test, r.topology, ...SERVERS.map((s) => (r.processes[s] === undefined ? "-" : `${r.processes[s]!.usPerRequest} (${r.processes[s]!.requestsPerOp})`))]),
  );
  process.stdout.write("\ntargets:\n");
  printTable(["target", "wanted", "reached"], Object.entries(targets).map(([k, t]) => [k, t.target, String(t.reached)]));
  const out = { benchmark: "ipc", when: new Date().toISOString(), phaseMs: PHASE_MS, serviceCpu: 0, clientCpu: CLIENT_CPU, rows, topologies, floors, relayFloors, targets };
  mkdirSync(join(import.meta.dir, "results"), { recursive: true });
  writeFileSync(join(import.meta.dir, "results", "ipc.json"), JSON.stringify(out, null, 2) + "\n");
}
