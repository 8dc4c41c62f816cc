/**
 * The client cache under a real supervisor: a tenant whose data path streams eight times more data than its cache
 * holds stays within its pool (never OOM-killed, resident memory below the pool limit, cached bytes within
 * cache.size), and `danaus status` shows the cache's counters. Runs on the Ceph cluster when there is one (CI), else
 * on the local backend.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { constants, readFileSync } from "node:fs";
import { join } from "node:path";
import { DanausClient } from "../../../shims/ts/client.ts";
import { removeCephTree } from "../../services/client-cache/backend/cephfs-tree.ts";
import { Harness } from "../harness.ts";

setDefaultTimeout(180_000);
const MiB = 1024 * 1024;
const MEMORY = 512 * MiB;
const CACHE = 64 * MiB;
const STREAM = 512 * MiB;
const conf = process.env.DANAUS_CEPH_CONF;
const cephRoot = `/danaus-it-cache-${process.pid}`;
let h: Harness;
let client: DanausClient;

function tenantFile(): string {
  const backend = conf ? `kind = "cephfs"\nconf = "${conf}"\nroot = "${cephRoot}"` : `kind = "local"\nroot = "backends/alpha"`;
  return [
    `name = "alpha"`,
    `cpus = [0]`,
    `memory = "${MEMORY / MiB}MiB"`,
    `shareCpus = true`,
    `[backend]`,
    backend,
    `[cache]`,
    `size = "${CACHE / MiB}MiB"`,
    `maxDirty = "16MiB"`,
    `blockSize = "1MiB"`,
    `writebackMs = 200`,
    `[[mounts]]`,
    `path = "/mnt/test/alpha"`,
    `source = "data"`,
  ].join("\n");
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

beforeAll(async () => {
  h = new Harness({ tenants: { alpha: tenantFile() } });
  await h.start(["alpha"]);
  client = DanausClient.connect({ socket: join(h.dir, "state/run/alpha/router.sock") });
}, 60_000);
afterAll(async () => {
  client?.disconnect();
  await h?.stop();
  if (conf) removeCephTree(conf, cephRoot);
}, 60_000);

test(`streaming ${STREAM / MiB} MiB through a ${CACHE / MiB} MiB cache keeps the service within its ${MEMORY / MiB} MiB pool`, async () => {
  const [dataPath] = (await h.tenant("alpha")).services.filter((s) => s.name === "ipc-router");
  const pid = dataPath!.pid!;
  const block = new Uint8Array(MiB);
  const fd = client.open("/mnt/test/alpha/stream", constants.O_CREAT | constants.O_RDWR | constants.O_TRUNC, 0o644);
  let peak = 0;
  for (let at = 0; at < STREAM; at += MiB) {
    block.fill(at / MiB);
    client.pwrite(fd, block, at);
    if (at % (32 * MiB) === 0) peak = Math.max(peak, rssBytes(pid));
  }
  client.fsync(fd);
  for (let at = 0; at < STREAM; at += MiB) {
    expect(client.pread(fd, block, at)).toBe(MiB);
    expect(block[0]).toBe((at / MiB) & 0xff);
    expect(block[MiB - 1]).toBe((at / MiB) & 0xff);
    if (at % (32 * MiB) === 0) peak = Math.max(peak, rssBytes(pid));
  }
  client.close(fd);
  process.stderr.write(`cache-memory: peak RSS of the data-path process ${(peak / MiB).toFixed(0)} MiB\n`);
  expect(peak).toBeLessThan(MEMORY);
  const after = await h.tenant("alpha");
  const service = after.services.find((s) => s.name === "ipc-router")!;
  expect(service.pid).toBe(pid);
  expect(service.restarts).toBe(0);
  if (after.memoryUsageBytes !== null) expect(after.memoryUsageBytes).toBeLessThanOrEqual(MEMORY);

  // The counters reach `danaus status` (published every second).
  await Bun.sleep(1200);
  const stats = (await h.tenant("alpha")).stats["client-cache"]!.stats;
  expect(stats.capacityBytes).toBe(CACHE);
  expect(stats.cachedBytes).toBeLessThanOrEqual(CACHE);
  expect(stats.evictions).toBeGreaterThan(0);
  expect(stats.writeBackBytes).toBeGreaterThanOrEqual(STREAM - CACHE);
  expect(stats.misses).toBeGreaterThan(0);
  expect(stats.dirtyBytes).toBe(0);
  const table = await h.cli("status");
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/client-cache: .*capacity 64\.0 MiB/);
});
