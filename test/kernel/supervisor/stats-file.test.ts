/** @module test/kernel/supervisor/stats-file — services' published counters: written atomically, read back, shown by `danaus status`. */
import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { publishStats, readStats } from "../../../kernel/service-host/index.ts";
import { renderStatusTable, type TenantStatus } from "../../../kernel/supervisor/status.ts";

test("published counters read back by service; broken or non-numeric entries are dropped, not fatal", () => {
  const runDir = mkdtempSync(join(tmpdir(), "danaus-stats-"));
  try {
    expect(readStats(runDir)).toEqual({});
    publishStats(runDir, "client-cache", { hits: 3, misses: 1, cachedBytes: 3 * 1024 * 1024 });
    publishStats(runDir, "client-cache", { hits: 5, misses: 1, cachedBytes: 4096 });
    writeFileSync(join(runDir, "stats", "broken.json"), "{not json");
    writeFileSync(join(runDir, "stats", "odd.json"), JSON.stringify({ at: 1, stats: { ok: 1, text: "x", inf: null } }));
    const read = readStats(runDir);
    expect(read["client-cache"]!.stats).toEqual({ hits: 5, misses: 1, cachedBytes: 4096 });
    expect(read.odd!.stats).toEqual({ ok: 1 });
    expect(read.broken).toBeUndefined();
    expect(readdirSync(join(runDir, "stats")).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
});

test("the status table shows each service's counters, sizes in binary units, durations in µs, ms or s", () => {
  const tenant: TenantStatus = {
    name: "alpha", state: "running", cpus: [0], memoryBytes: 1 << 30, memoryUsageBytes: null, pool: "cgroup-v1", file: "/x.toml",
    services: [], errors: [],
    stats: {
      "client-cache": { at: 0, stats: { hits: 7, cachedBytes: 3 * 1024 * 1024 } },
      "ipc-router": { at: 0, stats: { requests: 3, busyMicros: 250 } },
      union: { at: 0, stats: { requests: 9, busyMicros: 2_500 } },
      fuse: { at: 0, stats: { busyMicros: 12_345_678 } },
    },
  };
  const table = renderStatusTable([tenant]);
  expect(table).toContain("client-cache: hits 7, cached 3.0 MiB");
  expect(table).toContain("ipc-router: requests 3, busy 250 µs");
  expect(table).toContain("union: requests 9, busy 2.5 ms");
  expect(table).toContain("fuse: busy 12.3 s");
});
