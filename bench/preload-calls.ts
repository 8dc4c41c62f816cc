/**
 * @module preload-calls — the cost the LD_PRELOAD library adds to calls that go to the kernel, part of
 * `bun run bench preload`: preload-calls.c (compiled here with cc) times stat(2) and 4 KiB pread(2) on a host file,
 * run alternately without the library, with it loaded but not connected (no DANAUS_SOCKET: the wrappers' own cost),
 * with it connected to a running tenant (the cost a tenant's program pays), and without it again (a control: the
 * difference between the two runs without it is the noise floor of the method), each pinned to the same core. Each
 * run times batches and reports its median batch; here the medians of the runs, and the medians of the differences
 * within a round (the order of the four rotates from round to round).
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

/**
 * Compiles and runs the timing loop on `cpu`, {@link RUNS} rounds of four runs: without the library, with `library`
 * preloaded but no socket, with it preloaded and `socket` as the tenant's socket (after a stat of `mountPath`, so the
 * library is registered), and without it again.
 */
export function runCallsPart(library: string, socket: string, mountPath: string, cpu: number): CallsPart {
  const dir = mkdtempSync(join(tmpdir(), "danaus-bench-calls-"));
  try {
    const exe = join(dir, "preload-calls");
    const cc = Bun.spawnSync(["cc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-o", exe, join(import.meta.dir, "preload-calls.c")], { stderr: "pipe" });
    if (cc.exitCode !== 0) throw new Error(`cc preload-calls.c: ${cc.stderr.toString().trim()}`);
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
