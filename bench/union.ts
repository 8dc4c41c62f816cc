/**
 * @module union — `bun run bench union`: the danaus union (client → tenant service: union over its cache over
 * libcephfs) against the paper's F/F, unionfs-fuse (`-o cow`) over ceph-fuse, on the same lower data in the project's
 * Ceph cluster: copy-up on a 1 MiB append to a 256 MiB lower file; cold and warm sequential read of a lower file in
 * 1 MiB reads; N = 1, 4, 16 clones (union mounts over the same lower) each reading the same 64 MiB lower file, with
 * total time and the file system services' memory (RSS of the danaus tenant service; of ceph-fuse + every unionfs).
 * Every file system daemon is confined to core 0 (taskset), the driver to the last core. Needs `bun run ceph up`.
 * DANAUS_BENCH_UNION_SYSTEMS=unionfs (or danaus) runs one side only; DANAUS_BENCH_UNION_{APPEND,SEQ,SHARED}_MIB
 * change the file sizes (256, 256, 64).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pinThread } from "../kernel/sys/libc.ts";
import { DEFAULT_CLUSTER_DIR, status } from "../scripts/ceph/index.ts";
import { DanausClient } from "../shims/ts/index.ts";
import { startTestRouter } from "../test/services/ipc-router/router-harness.ts";
import { sequentialRead, sequentialWrite, type Throughput } from "./backend-driver.ts";
import { dropPageCache, mountCephFuse } from "./ceph-fuse.ts";
import { nodeFs, type BenchFs } from "./node-fs.ts";
import { printTable } from "./stats.ts";
import { copyUpAppend, readThroughEach, type CopyUpTimes } from "./union-driver.ts";
import { cephFusePids, mountUnionfs, rssBytes, type UnionfsMount } from "./union-fuse.ts";

const MiB = 1 << 20;
const APPEND_LOWER_BYTES = Number(process.env.DANAUS_BENCH_UNION_APPEND_MIB ?? 256) * MiB;
const APPEND_BYTES = MiB;
const SEQ_BYTES = Number(process.env.DANAUS_BENCH_UNION_SEQ_MIB ?? 256) * MiB;
const SHARED_BYTES = Number(process.env.DANAUS_BENCH_UNION_SHARED_MIB ?? 64) * MiB;
const CLONES = [1, 4, 16];
const WARM_PASSES = 3;
const SERVICE_CPUS = [0];
const CLIENT_CPU = Math.max(0, navigator.hardwareConcurrency - 1);
const LOWER = "lower";

/** Union mounts of one system, all over the lower directory, freshly started (every cache it owns is cold). */
interface Stack {
  readonly mounts: BenchFs[];
  /** Resident memory of the system's file system services, bytes. */
  memoryBytes(): number;
  close(): Promise<void>;
}

/** One system under test. */
interface System {
  readonly name: string;
  /** Starts `count` union mounts whose uppers are `<tag>-upper<i>` of the system's own directory. */
  start(count: number, tag: string): Promise<Stack>;
}

/** What one system measured. */
interface Row {
  system: string;
  /** Open to the append's return, and to fsync + close. */
  copyUp: CopyUpTimes;
  readCold: Throughput;
  readWarm: Throughput;
  /** Per N: total seconds, memory before and after the reads, and each clone's read in MB/s (the first one is cold). */
  clones: { n: number; seconds: number; memoryBeforeBytes: number; memoryBytes: number; passesMbPerSec: number[] }[];
}

function danausSystem(conf: string, base: string): System {
  const backend = { kind: "cephfs" as const, conf, fs: "cephfs", root: `/${base}`, clientId: "admin" };
  const cache = { sizeBytes: 512 * MiB, maxDirtyBytes: 256 * MiB, blockSizeBytes: MiB, writebackMs: 1000, expireMs: 5000, writeback: "async" as const };
  return {
    name: "danaus",
    async start(count, tag) {
      const unions = Array.from({ length: count }, (_, i) => ({ upper: `danaus/${tag}-upper${i}`, lowers: [LOWER] }));
      const router = await startTestRouter({ mounts: 0, unions, cpus: SERVICE_CPUS, backend, cache, pinProcess: true });
      try {
        const client = DanausClient.connect({ socket: router.socket });
        return {
          mounts: unions.map((_, i) => client.fileSystem(`/u${i}`)),
          memoryBytes: () => rssBytes(router.proc.pid),
          async close() {
            client.disconnect();
            await router.stop();
          },
        };
      } catch (error) {
        await router.stop();
        throw error;
      }
    },
  };
}

function unionfsSystem(conf: string, base: string): System {
  return {
    name: "unionfs-fuse/ceph-fuse",
    async start(count, tag) {
      dropPageCache();
      const ceph = await mountCephFuse(conf, [], SERVICE_CPUS);
      const unions: UnionfsMount[] = [];
      try {
        for (let i = 0; i < count; i++) {
          const upper = join(ceph.path, base, "ff", `${tag}-upper${i}`);
          mkdirSync(upper, { recursive: true });
          unions.push(await mountUnionfs(upper, join(ceph.path, base, LOWER), SERVICE_CPUS));
        }
      } catch (error) {
        for (const u of unions) await u.unmount();
        ceph.unmount();
        throw error;
      }
      const cephPids = cephFusePids(ceph.path);
      return {
        mounts: unions.map((u) => nodeFs(u.path)),
        memoryBytes: () => [...cephPids, ...unions.map((u) => u.pid)].reduce((sum, pid) => sum + rssBytes(pid), 0),
        async close() {
          for (const u of unions) await u.unmount();
          ceph.unmount();
        },
      };
    },
  };
}

async function withStack<T>(system: System, count: number, tag: string, body: (stack: Stack) => T): Promise<T> {
  const stack = await system.start(count, tag);
  try {
    return body(stack);
  } finally {
    await stack.close();
  }
}

async function measure(system: System): Promise<Row> {
  const say = (what: string) => process.stderr.write(`  ${system.name}: ${what}\n`);
  say(`copy-up: append ${APPEND_BYTES / MiB} MiB to a ${APPEND_LOWER_BYTES / MiB} MiB lower file`);
  const copyUp = await withStack(system, 1, "copyup", (s) => copyUpAppend(s.mounts[0]!, "/append", APPEND_LOWER_BYTES, APPEND_BYTES));
  say(`sequential read of a ${SEQ_BYTES / MiB} MiB lower file, cold then warm (median of ${WARM_PASSES})`);
  const { readCold, readWarm } = await withStack(system, 1, "read", (s) => {
    const cold = sequentialRead(s.mounts[0]!, "/seq", SEQ_BYTES);
    const warm = Array.from({ length: WARM_PASSES }, () => sequentialRead(s.mounts[0]!, "/seq", SEQ_BYTES)).sort((a, b) => a.mbPerSec - b.mbPerSec);
    return { readCold: cold, readWarm: warm[Math.floor(WARM_PASSES / 2)]! };
  });
  const clones: Row["clones"] = [];
  for (const n of CLONES) {
    say(`${n} clone(s) each reading the same ${SHARED_BYTES / MiB} MiB lower file`);
    clones.push(
      await withStack(system, n, `clones${n}`, (s) => {
        const memoryBeforeBytes = s.memoryBytes();
        const { seconds, passes } = readThroughEach(s.mounts, "/shared", SHARED_BYTES);
        return { n, seconds, memoryBeforeBytes, memoryBytes: s.memoryBytes(), passesMbPerSec: passes.map((p) => p.mbPerSec) };
      }),
    );
  }
  return { system: system.name, copyUp, readCold, readWarm, clones };
}

/** Writes the lower files both systems read, through an admin ceph-fuse mount, fsynced. */
function prepareLower(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const fs = nodeFs(dir);
  for (const [name, bytes] of [["append", APPEND_LOWER_BYTES], ["seq", SEQ_BYTES], ["shared", SHARED_BYTES]] as const) {
    process.stderr.write(`  lower/${name}: ${bytes / MiB} MiB\n`);
    sequentialWrite(fs, `/${name}`, bytes);
  }
}

const mb = (bytes: number) => Math.round(bytes / MiB);

/** Runs the benchmark and writes bench/results/union.json. */
export async function run(): Promise<void> {
  const cluster = status(process.env.DANAUS_CEPH_DIR ?? DEFAULT_CLUSTER_DIR);
  if (!cluster.usable || cluster.conf === null) {
    process.stderr.write(`bench union needs the Ceph cluster in ${cluster.dir}: run \`bun run ceph up\` first\n`);
    process.exit(1);
  }
  const conf = cluster.conf;
  const only = process.env.DANAUS_BENCH_UNION_SYSTEMS;
  pinThread([CLIENT_CPU]);
  const base = `bench-union-${process.pid}`;
  const admin = await mountCephFuse(conf);
  const rows: Row[] = [];
  const missing: Record<string, string> = {};
  try {
    process.stderr.write("preparing the lower branch\n");
    prepareLower(join(admin.path, base, LOWER));
    mkdirSync(join(admin.path, base, "danaus"), { recursive: true });
    for (const system of [unionfsSystem(conf, base), danausSystem(conf, base)]) {
      if (only !== undefined && !system.name.startsWith(only)) continue;
      try {
        rows.push(await measure(system));
      } catch (error) {
        missing[system.name] = error instanceof Error ? error.message : String(error);
        process.stderr.write(`  ${system.name} failed: ${missing[system.name]}\n`);
      }
    }
  } finally {
    rmSync(join(admin.path, base), { recursive: true, force: true });
    admin.unmount();
  }
  printTable(
    ["system", "copy-up s", "+fsync s", "read cold MB/s", "read warm MB/s", ...CLONES.flatMap((n) => [`${n} clones s`, `${n} clones MiB`])],
    rows.map((r) => [r.system, r.copyUp.appended, r.copyUp.synced, r.readCold.mbPerSec, r.readWarm.mbPerSec, ...r.clones.flatMap((c) => [c.seconds, mb(c.memoryBytes)])]),
  );
  const d = rows.find((r) => r.system === "danaus");
  const f = rows.find((r) => r.system !== "danaus");
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? null : +(a / b).toFixed(2));
  const memory = (r: Row | undefined, n: number) => r?.clones.find((c) => c.n === n)?.memoryBytes;
  const targets = {
    copyUpVsFF: { target: ">= 10 (F/F time / danaus time, until the append returns)", reached: ratio(f?.copyUp.appended, d?.copyUp.appended) },
    copyUpFsyncVsFF: { target: "(report: until fsync + close return)", reached: ratio(f?.copyUp.synced, d?.copyUp.synced) },
    warmReadVsFF: { target: ">= 2", reached: ratio(d?.readWarm.mbPerSec, f?.readWarm.mbPerSec) },
    coldReadVsFF: { target: "(report)", reached: ratio(d?.readCold.mbPerSec, f?.readCold.mbPerSec) },
    danausMemory16vs1: { target: "<= 1.2", reached: ratio(memory(d, 16), memory(d, 1)) },
    ffMemory16vs1: { target: "(report)", reached: ratio(memory(f, 16), memory(f, 1)) },
  };
  process.stdout.write("\ntargets:\n");
  printTable(["target", "wanted", "reached"], Object.entries(targets).map(([k, t]) => [k, t.target, t.reached === null ? "n/a" : String(t.reached)]));
  for (const [name, why] of Object.entries(missing)) process.stdout.write(`\nmissing ${name}: ${why}\n`);
  const out = {
    benchmark: "union",
    when: new Date().toISOString(),
    appendLowerBytes: APPEND_LOWER_BYTES,
    appendBytes: APPEND_BYTES,
    seqBytes: SEQ_BYTES,
    sharedBytes: SHARED_BYTES,
    serviceCpus: SERVICE_CPUS,
    clientCpu: CLIENT_CPU,
    rows,
    targets,
    missing,
  };
  mkdirSync(join(import.meta.dir, "results"), { recursive: true });
  writeFileSync(join(import.meta.dir, "results", "union.json"), JSON.stringify(out, null, 2) + "\n");
}
