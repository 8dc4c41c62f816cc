/**
 * @module stats-file — how a service process publishes counters for `danaus status`: one JSON file per service in
 * the tenant's run directory (`<runDir>/stats/<service>.json`, replaced atomically by rename), read by the supervisor.
 * Values are flat maps of numbers, so a status reader needs no knowledge of the service, plus optional notes: lines an
 * operator must read (a request held for long, a mount that cannot be served), with any name bytes escaped.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A service's published counters. */
export type ServiceStats = Record<string, number>;

const DIR = "stats";

/** What one service published. */
export interface PublishedStats {
  /** When it was written (`Date.now()`). */
  at: number;
  stats: ServiceStats;
  /** Lines for the operator (empty when all is well). */
  notes: string[];
}

/** Writes `stats` (and `notes`) as the current counters of `service` (mode 0600, atomically). */
export function publishStats(runDir: string, service: string, stats: ServiceStats, notes: readonly string[] = []): void {
  const dir = join(runDir, DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${service}.json`);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify({ at: Date.now(), stats, notes }) + "\n", { mode: 0o600 });
  renameSync(temp, file);
}

/** The counters every service of a tenant published, by service name, with when they were written; {} when none. */
export function readStats(runDir: string): Record<string, PublishedStats> {
  const dir = join(runDir, DIR);
  const out: Record<string, PublishedStats> = {};
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!name.endsWith(".json")) continue;
    try {
      const parsed = JSON.parse(readFileSync(join(dir, name), "utf8")) as { at?: unknown; stats?: unknown; notes?: unknown };
      if (typeof parsed.at !== "number" || typeof parsed.stats !== "object" || parsed.stats === null) continue;
      const stats: ServiceStats = {};
      for (const [k, v] of Object.entries(parsed.stats)) if (typeof v === "number" && Number.isFinite(v)) stats[k] = v;
      const notes = Array.isArray(parsed.notes) ? parsed.notes.filter((n): n is string => typeof n === "string") : [];
      out[name.slice(0, -".json".length)] = { at: parsed.at, stats, notes };
    } catch {
      // A file being replaced or written by a broken service: skip it rather than fail the whole status.
    }
  }
  return out;
}
