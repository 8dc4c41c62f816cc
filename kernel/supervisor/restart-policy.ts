/** @module restart-policy — OTP-style restart decisions as small pure functions, unit-tested without processes. */
import type { RestartConfig } from "../config/index.ts";

/** Why a service process ended. */
export type ExitReason =
  | { kind: "normal" }
  | { kind: "exit"; code: number }
  | { kind: "signal"; signal: string }
  | { kind: "hung" }
  | { kind: "oom" }
  | { kind: "start-timeout" }
  | { kind: "placement-failed" }
  | { kind: "shutdown" };

/** A one-word rendering of an exit reason for status tables and logs: `normal`, `exit(3)`, `signal(SIGSEGV)`, `hung`... */
export function describeExit(reason: ExitReason): string {
  switch (reason.kind) {
    case "exit": return `exit(${reason.code})`;
    case "signal": return `signal(${reason.signal})`;
    default: return reason.kind;
  }
}

/** What the supervisor knew when a process ended, beyond its exit status. */
export interface ExitContext {
  /** The supervisor killed it because it missed its heartbeat deadline. */
  hung: boolean;
  /** The supervisor killed it because it never reported ready in time. */
  startTimeout: boolean;
  /** The supervisor was stopping it on purpose. */
  stopping: boolean;
  /** The pool's OOM-kill counter went up while it ran. */
  oomKilled: boolean;
  /** Exit code the pool's placement shell uses when it could not place the process. */
  placementFailedCode: number;
}

/** Classifies an exit: the supervisor's own knowledge first (stopping, hung, ...), then the kernel's (OOM), then the status. */
export function classifyExit(code: number | null, signal: string | null, ctx: ExitContext): ExitReason {
  if (ctx.stopping) return { kind: "shutdown" };
  if (ctx.hung) return { kind: "hung" };
  if (ctx.startTimeout) return { kind: "start-timeout" };
  if (signal === "SIGKILL" && ctx.oomKilled) return { kind: "oom" };
  if (signal !== null) return { kind: "signal", signal };
  if (code === ctx.placementFailedCode) return { kind: "placement-failed" };
  if (code === 0) return { kind: "normal" };
  return { kind: "exit", code: code ?? -1 };
}

/** Whether an exit is abnormal (anything but a clean exit 0 or a stop the supervisor asked for). */
export function isAbnormal(reason: ExitReason): boolean {
  return reason.kind !== "normal" && reason.kind !== "shutdown";
}

/** OTP `decide`: permanent is always restarted, transient only after an abnormal exit, temporary never; a stop is never restarted. */
export function decide(reason: ExitReason, type: RestartConfig["services"][keyof RestartConfig["services"]]): "restart" | "leave" {
  if (reason.kind === "shutdown") return "leave";
  switch (type) {
    case "permanent": return "restart";
    case "transient": return isAbnormal(reason) ? "restart" : "leave";
    case "temporary": return "leave";
  }
}

/**
 * OTP `add_restart`: the restart times still inside the period ending at `now`, plus `now`.
 * `exceeded` is true when that makes more than `intensity` restarts in the period (the tenant must then fail).
 */
export function recordRestart(times: readonly number[], now: number, intensity: number, periodMs: number): { times: number[]; exceeded: boolean } {
  const kept = times.filter((t) => now - t < periodMs);
  kept.push(now);
  return { times: kept, exceeded: kept.length > intensity };
}

/** Delay before the n-th restart in the current window (n ≥ 1): min(base · 2^(n-1), cap). */
export function backoffMs(n: number, baseMs: number, capMs: number): number {
  if (n < 1) return 0;
  return Math.min(baseMs * 2 ** Math.min(n - 1, 30), capMs);
}

/**
 * The units (in start order) a strategy restarts when `failed` ends: one_for_one just it, one_for_all every unit,
 * rest_for_one it and every unit started after it.
 */
export function affectedUnits<T>(strategy: RestartConfig["strategy"], unitsInStartOrder: readonly T[], failed: T): T[] {
  const index = unitsInStartOrder.indexOf(failed);
  if (index < 0) return [];
  switch (strategy) {
    case "one_for_one": return [failed];
    case "one_for_all": return [...unitsInStartOrder];
    case "rest_for_one": return unitsInStartOrder.slice(index);
  }
}
