/**
 * @module relay-floor — part of `bun run bench ipc` and `bun run bench backend`: the least time a request can take
 * through each topology's chain of processes when the processes are Bun processes using the project's own ring code
 * (kernel/ipc/ring), as the services are. Like crossing-floor.ts (the same chains in C): a client on its own core, a
 * front process on the tenant's core with a router's queue options, and 0, 1 or 2 more processes on that core with a
 * channel host's, each passing the request on with a channel client's call and answering when the answer comes
 * back. Nothing else runs in them: no service of those topologies written in TypeScript can answer a request faster.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OPCODE } from "../kernel/ipc/protocol/operations.ts";
import { RequestQueue } from "../kernel/ipc/ring/queue.ts";
import { Region } from "../kernel/ipc/ring/region.ts";
import { CLIENT_MAX_SPIN } from "../shims/ts/index.ts";
import type { FloorRow } from "./crossing-floor.ts";
import { quantile } from "./stats.ts";

/** Requests per run, after {@link WARM_UP} unmeasured ones (the JIT compiles the loops first). */
const REQUESTS = 20_000;
const WARM_UP = 5_000;
/** Runs per hop count; the median run is reported. */
const RUNS = 5;
const REGION = { queueCount: 1, queueCapacity: 4, bufferCount: 1, bufferSize: 4096 } as const;

const median = (values: number[]) => quantile(values, 0.5);

/** A started chain: a call into its front, and a stop that ends its processes and removes its regions. */
export interface RelayChain {
  readonly hops: number;
  /** Sends one null request down the chain and waits for its answer. */
  call(): void;
  stop(): Promise<void>;
}

/**
 * Starts a chain of `hops` processes beyond the front (relay-floor-peer.ts) in `dir`, all pinned to `serviceCpu`;
 * resolves once each has said it is ready.
 */
export async function startRelayChain(dir: string, name: string, hops: number, serviceCpu: number): Promise<RelayChain> {
  const paths = Array.from({ length: hops + 1 }, (_, i) => join(dir, `${name}-${hops}-${i}`));
  const regions = paths.map((path) => Region.create(path, REGION));
  const peers = paths.map((path, i) =>
    Bun.spawn([process.execPath, join(import.meta.dir, "relay-floor-peer.ts"), path, paths[i + 1] ?? "-", String(serviceCpu), i === 0 ? "front" : "hop"], {
      stdout: "pipe",
      stderr: "inherit",
    }));
  const retire = () => {
    for (const peer of peers) if (peer.exitCode === null) peer.kill();
    for (const region of regions) Region.retire(region.path!);
  };
  try {
    for (const peer of peers) {
      const first = await peer.stdout.getReader().read();
      if (!new TextDecoder().decode(first.value).startsWith("ready")) throw new Error(`relay-floor-peer ${peer.pid} did not start`);
    }
  } catch (error) {
    retire();
    throw error;
  }
  const queue = new RequestQueue(regions[0]!, 0, { peerCpus: [serviceCpu], maxSpin: CLIENT_MAX_SPIN });
  let id = 0;
  const request = (stop: boolean) => ({ requestId: id++, opcode: OPCODE.null, client: 0, buffer: 0, offset: 0, length: 0, args: stop ? [1] : [] });
  return {
    hops,
    call: () => void queue.call(request(false), { timeoutMs: 60_000 }),
    async stop() {
      try {
        queue.call(request(true), { timeoutMs: 60_000 });
        await Promise.all(peers.map((peer) => peer.exited));
      } finally {
        retire();
      }
    },
  };
}

/** One chain: `hops` processes beyond the front, measured once; returns the median and p99 round trip, µs. */
async function runChain(dir: string, hops: number, serviceCpu: number): Promise<{ median: number; p99: number }> {
  const chain = await startRelayChain(dir, "chain", hops, serviceCpu);
  try {
    for (let i = 0; i < WARM_UP; i++) chain.call();
    const times = new Float64Array(REQUESTS);
    for (let i = 0; i < REQUESTS; i++) {
      const started = performance.now();
      chain.call();
      times[i] = performance.now() - started;
    }
    const sorted = Array.from(times).sort((a, b) => a - b);
    return { median: quantile(sorted, 0.5) * 1000, p99: quantile(sorted, 0.99) * 1000 };
  } finally {
    await chain.stop();
  }
}

/** Measures the floor of chains of `hopCounts` Bun processes beyond the front, the front on `serviceCpu`, the client the calling thread (pinned by the caller). */
export async function measureRelayFloors(hopCounts: readonly number[], serviceCpu: number): Promise<FloorRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "danaus-bench-relay-"));
  try {
    const runs = new Map<number, { median: number[]; p99: number[] }>(hopCounts.map((h) => [h, { median: [], p99: [] }]));
    for (let round = 0; round < RUNS; round++) {
      for (const hops of hopCounts) {
        const r = await runChain(dir, hops, serviceCpu);
        runs.get(hops)!.median.push(r.median);
        runs.get(hops)!.p99.push(r.p99);
      }
    }
    return hopCounts.map((hops) => ({ hops, medianUs: +median(runs.get(hops)!.median).toFixed(2), p99Us: +median(runs.get(hops)!.p99).toFixed(2) }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
