/** Tests of the pure restart-policy functions (no processes). */
import { describe, expect, test } from "bun:test";
import {
  affectedUnits,
  backoffMs,
  classifyExit,
  decide,
  describeExit,
  isAbnormal,
  recordRestart,
  type ExitContext,
} from "../../../kernel/supervisor/restart-policy.ts";

const quiet: ExitContext = { hung: false, startTimeout: false, stopping: false, oomKilled: false, placementFailedCode: 97 };

describe("classifyExit", () => {
  test("exit 0 is normal, other codes are exits", () => {
    expect(classifyExit(0, null, quiet)).toEqual({ kind: "normal" });
    expect(classifyExit(3, null, quiet)).toEqual({ kind: "exit", code: 3 });
  });
  test("signals are reported by name", () => {
    expect(classifyExit(null, "SIGSEGV", quiet)).toEqual({ kind: "signal", signal: "SIGSEGV" });
  });
  test("the supervisor's knowledge wins over the exit status", () => {
    expect(classifyExit(null, "SIGKILL", { ...quiet, stopping: true })).toEqual({ kind: "shutdown" });
    expect(classifyExit(null, "SIGKILL", { ...quiet, hung: true })).toEqual({ kind: "hung" });
    expect(classifyExit(null, "SIGKILL", { ...quiet, startTimeout: true })).toEqual({ kind: "start-timeout" });
  });
  test("SIGKILL with an OOM kill in the pool is oom; without it, a plain signal", () => {
    expect(classifyExit(null, "SIGKILL", { ...quiet, oomKilled: true })).toEqual({ kind: "oom" });
    expect(classifyExit(null, "SIGKILL", quiet)).toEqual({ kind: "signal", signal: "SIGKILL" });
  });
  test("the placement shell's exit code is a placement failure", () => {
    expect(classifyExit(97, null, quiet)).toEqual({ kind: "placement-failed" });
  });
});

describe("describeExit", () => {
  test("one word per reason", () => {
    expect(describeExit({ kind: "exit", code: 70 })).toBe("exit(70)");
    expect(describeExit({ kind: "signal", signal: "SIGKILL" })).toBe("signal(SIGKILL)");
    expect(describeExit({ kind: "hung" })).toBe("hung");
  });
});

describe("decide", () => {
  const normal = { kind: "normal" } as const;
  const crash = { kind: "exit", code: 1 } as const;
  const shutdown = { kind: "shutdown" } as const;
  test("permanent restarts after any exit but a shutdown", () => {
    expect(decide(normal, "permanent")).toBe("restart");
    expect(decide(crash, "permanent")).toBe("restart");
    expect(decide({ kind: "hung" }, "permanent")).toBe("restart");
    expect(decide(shutdown, "permanent")).toBe("leave");
  });
  test("transient restarts only after an abnormal exit", () => {
    expect(decide(normal, "transient")).toBe("leave");
    expect(decide(crash, "transient")).toBe("restart");
    expect(decide({ kind: "oom" }, "transient")).toBe("restart");
    expect(decide(shutdown, "transient")).toBe("leave");
  });
  test("temporary never restarts", () => {
    expect(decide(crash, "temporary")).toBe("leave");
    expect(decide(normal, "temporary")).toBe("leave");
  });
  test("isAbnormal", () => {
    expect(isAbnormal(normal)).toBe(false);
    expect(isAbnormal(shutdown)).toBe(false);
    expect(isAbnormal(crash)).toBe(true);
  });
});

describe("recordRestart (intensity window)", () => {
  test("counts restarts inside the period and forgets older ones", () => {
    let times: number[] = [];
    for (const t of [0, 100, 200]) times = recordRestart(times, t, 3, 1000).times;
    expect(times).toEqual([0, 100, 200]);
    const later = recordRestart(times, 1150, 3, 1000);
    expect(later.times).toEqual([200, 1150]);
    expect(later.exceeded).toBe(false);
  });
  test("exceeds when more than intensity restarts fall in one period", () => {
    let window = { times: [] as number[], exceeded: false };
    for (const t of [0, 10, 20]) window = recordRestart(window.times, t, 3, 1000);
    expect(window.exceeded).toBe(false);
    window = recordRestart(window.times, 30, 3, 1000);
    expect(window.exceeded).toBe(true);
  });
  test("intensity 0 fails on the first restart", () => {
    expect(recordRestart([], 5, 0, 1000).exceeded).toBe(true);
  });
  test("does not mutate its input", () => {
    const times = [1, 2];
    recordRestart(times, 3, 5, 1000);
    expect(times).toEqual([1, 2]);
  });
});

describe("backoffMs", () => {
  test("min(base · 2^(n-1), cap)", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, 100, 1000))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
  test("no delay before any restart, and huge n stays finite", () => {
    expect(backoffMs(0, 100, 1000)).toBe(0);
    expect(backoffMs(500, 100, 5000)).toBe(5000);
  });
});

describe("affectedUnits (strategies)", () => {
  const units = ["client-cache", "union", "ipc-router", "fuse-legacy"];
  test("one_for_one restarts only the failed unit", () => {
    expect(affectedUnits("one_for_one", units, "union")).toEqual(["union"]);
  });
  test("one_for_all restarts every unit in start order", () => {
    expect(affectedUnits("one_for_all", units, "union")).toEqual(units);
  });
  test("rest_for_one restarts the failed unit and those started after it", () => {
    expect(affectedUnits("rest_for_one", units, "union")).toEqual(["union", "ipc-router", "fuse-legacy"]);
    expect(affectedUnits("rest_for_one", units, "fuse-legacy")).toEqual(["fuse-legacy"]);
  });
  test("an unknown unit affects nothing", () => {
    expect(affectedUnits("one_for_all", units, "nope")).toEqual([]);
  });
});
