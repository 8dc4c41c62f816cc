/** @module status — the shape of `danaus status` (JSON) and its table rendering. */

/** One service of a tenant. Services sharing a process share its pid, state and restarts. */
export interface ServiceStatus {
  name: string;
  /** The process group it runs in ("union", or "client-cache+union+ipc-router"). */
  process: string;
  pid: number | null;
  state: string;
  restarts: number;
  uptimeMs: number | null;
  lastExit: string | null;
  lastExitAt: string | null;
  heartbeat: { count: number; maxGapMs: number };
}

/** One tenant. */
export interface TenantStatus {
  name: string;
  state: string;
  cpus: number[];
  memoryBytes: number;
  memoryUsageBytes: number | null;
  pool: string;
  file: string;
  services: ServiceStatus[];
  /** Why it failed or was not started (invalid config, intensity exceeded, pool error). */
  errors: string[];
  /** Counters its services published (e.g. the client cache's hits, misses, dirty bytes), by service. */
  stats: Record<string, { at: number; stats: Record<string, number>; notes?: string[] }>;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** A duration in microseconds, in the largest unit under which it is at least 1 (µs, ms, s). */
function formatMicros(us: number): string {
  if (us < 1000) return `${us} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(1)} ms`;
  return `${(us / 1e6).toFixed(1)} s`;
}

/** One line of counters: names ending in "Bytes" are shown as sizes, names ending in "Micros" as durations. */
function formatCounters(stats: Record<string, number>): string {
  return Object.entries(stats)
    .map(([k, v]) => {
      if (k.endsWith("Bytes")) return `${k.slice(0, -"Bytes".length)} ${formatBytes(v)}`;
      if (k.endsWith("Micros")) return `${k.slice(0, -"Micros".length)} ${formatMicros(v)}`;
      return `${k} ${v}`;
    })
    .join(", ");
}

function formatUptime(ms: number | null): string {
  if (ms === null) return "-";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Renders the status as an aligned text table, followed by each tenant's pool and errors. */
export function renderStatusTable(tenants: TenantStatus[]): string {
  const header = ["TENANT", "SERVICE", "PID", "STATE", "CPUS", "UPTIME", "RESTARTS", "LAST EXIT"];
  const rows: string[][] = [];
  for (const t of tenants) {
    if (t.services.length === 0) rows.push([t.name, "-", "-", t.state, t.cpus.join(","), "-", "-", "-"]);
    for (const s of t.services) {
      rows.push([t.name, s.name, s.pid === null ? "-" : String(s.pid), t.state === "running" ? s.state : `${s.state} (${t.state})`, t.cpus.join(","), formatUptime(s.uptimeMs), String(s.restarts), s.lastExit ?? "-"]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const out = [line(header), ...rows.map(line)];
  for (const t of tenants) {
    out.push(`${t.name}: ${t.state}, pool ${t.pool}, file ${t.file}`);
    for (const e of t.errors) out.push(`  ${e}`);
    for (const [service, { stats, notes }] of Object.entries(t.stats ?? {})) {
      out.push(`  ${service}: ${formatCounters(stats)}`);
      for (const note of notes ?? []) out.push(`  ${service}: ${note}`);
    }
  }
  return out.join("\n");
}
