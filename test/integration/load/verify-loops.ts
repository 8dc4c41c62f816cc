/** @module verify-loops — the parent's side of verify-loop.ts: start one pinned to a core, collect its reports, ask what it saw. */
import { join } from "node:path";
import { spawnChild, type Child } from "../../services/ipc-router/robustness/helpers.ts";
import { waitFor } from "../harness.ts";
import type { ErrorSample, LoopOptions, LoopReport, VerifySample } from "./loop-report.ts";

/** Counts over a loop's whole life (or a window of it). */
export interface LoopTotals {
  reads: number;
  writes: number;
  errors: number;
  verifyFailures: number;
  errorSamples: ErrorSample[];
  verifySamples: VerifySample[];
}

/** A running verifying loop in its own process. */
export class VerifyLoop {
  readonly reports: LoopReport[] = [];
  private ended: Error | null = null;
  private finished = false;

  private constructor(private readonly child: Child, readonly label: string) {}

  /** Starts the loop on core `cpu` and waits until its files are laid out (throws with its stderr if it fails first). */
  static async start(options: LoopOptions, cpu: number, label: string): Promise<VerifyLoop> {
    const child = spawnChild(join(import.meta.dir, "verify-loop.ts"), options, label, ["taskset", "-c", String(cpu)]);
    await child.next<{ ready: true }>();
    const loop = new VerifyLoop(child, label);
    void loop.collect();
    return loop;
  }

  private async collect(): Promise<void> {
    try {
      for (;;) {
        const report = await this.child.next<LoopReport>();
        this.reports.push(report);
        if (report.final) {
          this.finished = true;
          return;
        }
      }
    } catch (error) {
      this.ended = error as Error;
    }
  }

  /** The loop's pid. */
  get pid(): number {
    return this.child.pid;
  }

  /** Totals over the reports printed between `from` and `to` (epoch ms; default: all). */
  totals(from = 0, to = Infinity): LoopTotals {
    const totals: LoopTotals = { reads: 0, writes: 0, errors: 0, verifyFailures: 0, errorSamples: [], verifySamples: [] };
    for (const r of this.reports) {
      if (r.t < from || r.t >= to) continue;
      totals.reads += r.reads;
      totals.writes += r.writes;
      totals.errors += r.errors;
      totals.verifyFailures += r.verifyFailures;
      totals.errorSamples.push(...r.errorSamples);
      totals.verifySamples.push(...r.verifySamples);
    }
    return totals;
  }

  /** Durations (ms) of the successful calls that started in [from, to) (epoch ms). */
  latencies(from: number, to: number): number[] {
    const out: number[] = [];
    for (const r of this.reports) {
      if (r.t < from) continue;
      for (let i = 0; i < r.okStart.length; i++) if (r.okStart[i]! >= from && r.okStart[i]! < to) out.push(r.okMs[i]!);
    }
    return out;
  }

  /** When (epoch ms) the first successful call that started at or after `since` ended, or null if none has yet. */
  firstSuccessAfter(since: number): number | null {
    for (const r of this.reports) {
      if (r.t < since) continue;
      for (let i = 0; i < r.okStart.length; i++) if (r.okStart[i]! >= since) return r.okStart[i]! + r.okMs[i]!;
    }
    return null;
  }

  /** Waits (polling its reports) for a successful call that started at or after `since`; returns when it ended. */
  async servesAfter(since: number, limitMs: number): Promise<number> {
    return waitFor(`${this.label}: a successful call started after ${new Date(since).toISOString()}`, () => {
      if (this.ended) throw this.ended;
      return this.firstSuccessAfter(since);
    }, limitMs);
  }

  /** Has the loop write its files whole again and expect only that from now on; waits until it has. */
  async layOutAgain(limitMs = 30_000): Promise<void> {
    const from = this.reports.length;
    this.child.send("relayout");
    await waitFor(`${this.label}: files laid out again`, () => {
      if (this.ended) throw this.ended;
      return this.reports.slice(from).some((r) => r.relaidOut);
    }, limitMs);
  }

  /** Asks the loop to stop and waits for its last report (SIGKILLs it if it does not come within `limitMs`). */
  async stop(limitMs = 30_000): Promise<void> {
    if (this.child.running) this.child.send("stop");
    try {
      await waitFor(`${this.label}: its last report`, () => this.finished || this.ended !== null, limitMs);
    } finally {
      await this.child.kill();
    }
    if (!this.finished) throw new Error(`${this.label} ended without its last report: ${this.ended?.message ?? "killed"}`);
  }
}
