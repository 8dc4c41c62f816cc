/**
 * @module rss — the resident memory of a tenant's service processes over time: the one place that says how much a
 * service may hold (the cache size plus an allowance), a sampler, and the slope of a series.
 */
import { readFileSync } from "node:fs";
import type { Harness } from "../harness.ts";

const MiB = 1024 * 1024;

/**
 * What a service process may hold on top of its tenant's cached data, after warm-up: README "Memory bounds" — a
 * baseline (a Bun process with its Workers, 65–80 MiB here) plus 48 MiB for tables, buffers and garbage between
 * collections. The README states this figure; change both together.
 */
export const RSS_ALLOWANCE_BYTES = (80 + 48) * MiB;

/** The most a service process of a tenant with a `cacheBytes` cache may hold after warm-up. */
export function rssBoundBytes(cacheBytes: number): number {
  return cacheBytes + RSS_ALLOWANCE_BYTES;
}

/** VmRSS of `pid` in bytes, or null when it is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** One reading: when (epoch ms), whose process (tenant and process group), its pid and RSS. */
export interface RssSample {
  t: number;
  tenant: string;
  process: string;
  pid: number;
  rssBytes: number;
}

/** Reads the RSS of every running service process of `tenants` every `everyMs` until stopped. */
export class RssSampler {
  readonly samples: RssSample[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly h: Harness, private readonly tenants: readonly string[], private readonly everyMs: number) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      await this.sample();
      await Bun.sleep(this.everyMs);
    }
  }

  /** Takes one reading of every process now. */
  async sample(): Promise<void> {
    const status = await this.h.status();
    for (const tenant of status.filter((t) => this.tenants.includes(t.name))) {
      const seen = new Set<number>();
      for (const s of tenant.services) {
        if (s.pid === null || s.state !== "running" || seen.has(s.pid)) continue;
        seen.add(s.pid);
        const rss = rssBytes(s.pid);
        if (rss !== null) this.samples.push({ t: Date.now(), tenant: tenant.name, process: s.process, pid: s.pid, rssBytes: rss });
      }
    }
  }

  /** Stops sampling (after the reading under way). */
  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** The samples of one process group of one tenant from `from` on (epoch ms), each process life on its own. */
  series(tenant: string, process: string, from = 0): RssSample[] {
    return this.samples.filter((s) => s.tenant === tenant && s.process === process && s.t >= from);
  }
}

/** The least-squares slope of RSS over time, in MB (10^6 bytes) per minute; NaN with fewer than two samples. */
export function slopeMbPerMinute(samples: readonly RssSample[]): number {
  if (samples.length < 2) return NaN;
  const xs = samples.map((s) => s.t / 60_000);
  const ys = samples.map((s) => s.rssBytes / 1e6);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}
