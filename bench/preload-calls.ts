/**
 * @module preload-calls — the cost the LD_PRELOAD library adds to calls that go to the kernel, part of
 * `bun run bench preload`: preload-calls.c (compiled here with cc) times stat(2) and 4 KiB pread(2) on a host file,
 * run alternately without the library, with it loaded but not connected (no DANAUS_SOCKET: the wrappers' own cost),
 * with it connected to a running tenant (the cost a tenant's program pays), and without it again (a control: the
 * difference between the two runs without it is the noise floor of the method), each pinned to the same core. Each
 * run times batches and reports its median batch; here the medians of the runs, and the medians of the differences
 * within a round (the order of the four rotates from round to round). Also, {@link runMountStatPart}: the time per stat(2)
 * of one existing file in a mount, through the library (with its attribute cache and without), through the tenant's
 * FUSE mount, ceph-fuse and on the host.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Batches per run; a run reports the median batch. */
const BATCHES = 100;
/** Calls of each kind per batch. */
const CALLS = Number(process.env.DANAUS_BENCH_PRELOAD_CALLS ?? 2000);
/** Runs with and without the library each; the median of the runs is reported. */
const RUNS = Number(process.env.DANAUS_BENCH_PRELOAD_CALL_RUNS ?? 12);
/** The added cost wanted at most, per call. */
export const ADDED_NS_TARGET = 100;

/** preload.json's call-cost part. */
export interface CallsPart {
  what: string;
  batches: number;
  callsPerBatch: number;
  runs: number;
  cpu: number;
  /** ns per call, each run. */
  without: { statNs: number[]; preadNs: number[] };
  with: { statNs: number[]; preadNs: number[] };
  control: { statNs: number[]; preadNs: number[] };
  loaded: { statNs: number[]; preadNs: number[] };
  /**
   * Medians of the runs; `added` = with − without, `addedLoaded` = loaded but unconnected − without, `noise` = control −
   * without (both without the library), each the median of the per-round differences.
   */
  medians: { statNs: CallMedians; preadNs: CallMedians };
  target: { wanted: string; met: boolean };
}

/** Medians of one call kind, ns. */
export interface CallMedians {
  without: number;
  with: number;
  control: number;
  loaded: number;
  added: number;
  addedLoaded: number;
  noise: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const round1 = (x: number) => Math.round(x * 10) / 10;

/** Compiles preload-calls.c into `dir`; returns the program's path. */
function compileCalls(dir: string): string {
  const exe = join(dir, "preload-calls");
  const cc = Bun.spawnSync(["cc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-o", exe, join(import.meta.dir, "preload-calls.c")], { stderr: "pipe" });
  if (cc.exitCode !== 0) throw new Error(`cc preload-calls.c: ${cc.stderr.toString().trim()}`);
  return exe;
}

/** Batches per stat run, and stats per batch (a stat that asks the tenant service takes tens of microseconds). */
const STAT_BATCHES = 30;
const STAT_CALLS = Number(process.env.DANAUS_BENCH_PRELOAD_STAT_CALLS ?? 1000);
/** Rounds over every stat target; each figure is the median of its rounds. */
const STAT_RUNS = Number(process.env.DANAUS_BENCH_PRELOAD_STAT_RUNS ?? 5);

/** One place a file is stat'ed: the file and how the program is started (as fio is: prefix and extra environment). */
export interface StatPoint {
  readonly backend: string;
  readonly target: string;
  /** An existing file, as the program names it. */
  readonly path: string;
  readonly prefix: readonly string[];
  readonly env?: Record<string, string>;
}

/** preload.json's stat part: ns per stat of each point, each round and the median of the rounds. */
export interface StatPart {
  what: string;
  batches: number;
  callsPerBatch: number;
  runs: number;
  rows: { backend: string; target: string; path: string; ns: number[]; medianNs: number; statsPerSecond: number }[];
}

/**
 * Times stat(2) of each point's file ({@link STAT_RUNS} rounds over all points, in turn, so that a change of load
 * touches all of them alike); each run reports the median ns per call of its batches.
 */
export function runMountStatPart(points: readonly StatPoint[]): StatPart {
  const dir = mkdtempSync(join(tmpdir(), "danaus-bench-stat-"));
  try {
    const exe = compileCalls(dir);
    const ns = points.map(() => [] as number[]);
    for (let round = 1; round <= STAT_RUNS; round++) {
      points.forEach((point, i) => {
        process.stderr.write(`  stat round ${round}/${STAT_RUNS} ${point.backend} / ${point.target}\n`);
        const argv = [...point.prefix, exe, "--stat-only", point.path, String(STAT_BATCHES), String(STAT_CALLS)];
        const r = Bun.spawnSync(argv, { env: { ...process.env, ...point.env }, stdout: "pipe", stderr: "pipe", timeout: 120_000 });
        if (r.exitCode !== 0) throw new Error(`preload-calls --stat-only ${point.path} (${point.target}) exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
        ns[i]!.push(Number(r.stdout.toString().trim()));
      });
    }
    return {
      what: `stat(2) of one existing 4 KiB file: ${STAT_BATCHES} batches of ${STAT_CALLS} calls per run (a run reports its median batch), ${STAT_RUNS} rounds over every target in turn`,
      batches: STAT_BATCHES,
      callsPerBatch: STAT_CALLS,
      runs: STAT_RUNS,
      rows: points.map((p, i) => {
        const m = round1(median(ns[i]!));
        return { backend: p.backend, target: p.target, path: p.path, ns: ns[i]!, medianNs: m, statsPerSecond: Math.round(1e9 / m) };
      }),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Compiles and runs the timing loop on `cpu`, {@link RUNS} rounds of four runs: without the library, with `library`
 * preloaded but no socket, with it preloaded and `socket` as the tenant's socket (after a stat of `mountPath`, so the
 * library is registered), and without it again.
 */
export function runCallsPart(library: string, socket: string, mountPath: string, cpu: number): CallsPart {
  const dir = mkdtempSync(join(tmpdir(), "danaus-bench-calls-"));
  try {
    const exe = compileCalls(dir);
    const file = join(dir, "file");
    writeFileSync(file, Buffer.alloc(1 << 20, 7));
    const once = (mode: "without" | "loaded" | "with") => {
      const env = { ...process.env, LD_PRELOAD: mode === "without" ? "" : library, DANAUS_SOCKET: mode === "with" ? socket : "" };
      const preload = mode === "with";
      const args = [exe, file, String(BATCHES), String(CALLS), ...(preload ? [mountPath] : [])];
      const r = Bun.spawnSync(["taskset", "-c", String(cpu), ...args], { env, stdout: "pipe", stderr: "pipe", timeout: 60_000 });
      if (r.exitCode !== 0) throw new Error(`preload-calls (${mode} the library) exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
      const [statNs, preadNs] = r.stdout.toString().trim().split(" ").map(Number);
      return { statNs: statNs!, preadNs: preadNs! };
    };
    const without = { statNs: [] as number[], preadNs: [] as number[] };
    const withLib = { statNs: [] as number[], preadNs: [] as number[] };
    const control = { statNs: [] as number[], preadNs: [] as number[] };
    const loaded = { statNs: [] as number[], preadNs: [] as number[] };
    const order = [[without, "without"], [loaded, "loaded"], [withLib, "with"], [control, "without"]] as const;
    for (let i = 0; i < RUNS; i++) {
      // The order rotates from round to round, so that a load that changes during the part does not favour one variant.
      for (let k = 0; k < order.length; k++) {
        const [into, mode] = order[(i + k) % order.length]!;
        const { statNs, preadNs } = once(mode);
        into.statNs.push(statNs);
        into.preadNs.push(preadNs);
      }
    }
    // Differences are the medians of the per-round differences (each round's runs are seconds apart).
    const medianDiff = (x: number[], base: number[]) => median(x.map((v, i) => v - base[i]!));
    const medians4 = (kind: "statNs" | "preadNs"): CallMedians => {
      const [a, b, c, d] = [without, withLib, control, loaded].map((x) => median(x[kind]));
      return {
        without: round1(a!),
        with: round1(b!),
        control: round1(c!),
        loaded: round1(d!),
        added: round1(medianDiff(withLib[kind], without[kind])),
        addedLoaded: round1(medianDiff(loaded[kind], without[kind])),
        noise: round1(medianDiff(control[kind], without[kind])),
      };
    };
    const medians = { statNs: medians4("statNs"), preadNs: medians4("preadNs") };
    return {
      what: `stat(2) and 4 KiB pread(2) of a 1 MiB host file in ${tmpdir()}: ${BATCHES} batches of ${CALLS} calls of each per run (a run reports its median batch), rounds of four runs (without; with the library loaded but unconnected; with it registered with the tenant; without again, the control) in an order that rotates each round, pinned to core ${cpu}`,
      batches: BATCHES,
      callsPerBatch: CALLS,
      runs: RUNS,
      cpu,
      without,
      with: withLib,
      control,
      loaded,
      medians,
      target: { wanted: `<= ${ADDED_NS_TARGET} ns added per kernel-bound call`, met: medians.statNs.added <= ADDED_NS_TARGET && medians.preadNs.added <= ADDED_NS_TARGET },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
