/**
 * Faults in a fully split tenant (issue 14): beta runs client-cache, union and ipc-router each in a process of its
 * own, with a union mount (router → union → client-cache) and a direct mount (router → client-cache); alpha runs the
 * default topology beside it. For union and client-cache in turn: a client blocked in a request that the service holds
 * (the `slow` fault) gets an answer once that service is SIGKILLed, without hanging; only that process is restarted;
 * the router and its clients stay connected and the mounts serve again; acknowledged writes are there (`writeback =
 * "sync"`); alpha never notices. Each process reports what it holds, and none holds what it does not serve.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { constants, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { detectPoolSupport } from "../../../kernel/pool/index.ts";
import { join } from "node:path";
import { DanausClient } from "../../../shims/ts/index.ts";
import { killChildren, spawnChild } from "../../services/ipc-router/robustness/helpers.ts";
import { Harness, LAST_CPU, settledRequestCounts, tenantToml, waitFor } from "../harness.ts";
import { readText, writeText } from "./client-files.ts";

setDefaultTimeout(120_000);

const UNION = "/mnt/test/beta-union";
const DIRECT = "/mnt/test/beta-direct";
const beta = [
  `name = "beta"`, `cpus = [${LAST_CPU}]`, `memory = "512MiB"`, `shareCpus = true`,
  `topology = [["ipc-router"], ["union"], ["client-cache"]]`,
  `[backend]`, `kind = "local"`, `root = "backends/beta"`,
  `[cache]`, `writeback = "sync"`,
  `[[mounts]]`, `path = "${UNION}"`, `upper = "containers/c1/upper"`, `lowers = ["images/base/layer0"]`,
  `[[mounts]]`, `path = "${DIRECT}"`, `source = "data"`,
].join("\n");

/** The image's file the copy-up test copies up: 20 MiB, more than one copy_range request copies (16 MiB each), in 1 MiB windows. */
const BIG_LOWER = new Uint8Array(20 << 20).map((_, i) => (i * 13 + (i >> 20)) & 0xff);

let h: Harness;
let client: DanausClient;
let alphaPids: Record<string, number | null>;

beforeAll(async () => {
  h = new Harness({ tenants: { alpha: tenantToml("alpha", 0, "", ""), beta } });
  const layer = join(h.dir, "state", "backends", "beta", "images/base/layer0");
  mkdirSync(layer, { recursive: true });
  writeFileSync(join(layer, "motd"), "from the image\n");
  // Lowers do not change under a mounted union: the copy-up test's file is in the image from the start.
  writeFileSync(join(layer, "big"), BIG_LOWER);
  await h.start(["alpha", "beta"]);
  alphaPids = await h.pids("alpha");
  client = DanausClient.connect({ socket: join(h.dir, "state/run/beta/router.sock") });
}, 120_000);
afterEach(killChildren);
afterAll(async () => {
  client?.disconnect();
  await h?.stop();
}, 60_000);

/** The counters beta's processes published, by service, once every one has published. */
async function betaStats(): Promise<Record<string, Record<string, number>>> {
  return waitFor("beta's processes report", async () => {
    const stats = (await h.tenant("beta")).stats ?? {};
    const out = Object.fromEntries(Object.entries(stats).map(([name, s]) => [name, s.stats]));
    return ["ipc-router", "union", "client-cache"].every((name) => out[name]?.mounts !== undefined) ? out : null;
  });
}

test("each process holds only what it serves: the backend and cache in client-cache, unions in union, neither in the router", async () => {
  const stats = await betaStats();
  expect(stats["ipc-router"]).toMatchObject({ mounts: 2, storage: 0, unionMounts: 0, channels: 2 });
  expect(stats.union).toMatchObject({ mounts: 1, storage: 0, unionMounts: 1, channels: 1 });
  // client-cache serves the union's two branches and the direct mount's source.
  expect(stats["client-cache"]).toMatchObject({ mounts: 3, storage: 1, unionMounts: 0, channels: 0 });
  expect(stats["client-cache"]!.blockSizeBytes).toBeGreaterThan(0); // its cache counters
  // One request queue each (beta has one core), nothing waiting in it at rest.
  for (const service of ["ipc-router", "union", "client-cache"]) expect(stats[service]).toMatchObject({ queues: 1, queuedRequests: 0 });
  expect(stats["ipc-router"]!.blockSizeBytes).toBeUndefined();
});

test("each process counts the requests it answered and their time; a stat's time nests router ⊃ union ⊃ client-cache", async () => {
  const SERVICES = ["ipc-router", "union", "client-cache"];
  const runDir = join(h.dir, "state", "run", "beta");
  const before = await settledRequestCounts(runDir, SERVICES, (c) => SERVICES.every((s) => c[s] !== undefined));
  const STATS = 50;
  for (let i = 0; i < STATS; i++) expect(client.stat(`${UNION}/motd`).st_size).toBe("from the image\n".length);
  // Threads add their counts when idle, and processes publish every second: settled when two publications agree.
  const after = await settledRequestCounts(runDir, SERVICES, (c) => SERVICES.every((s) => (c[s]?.requests ?? 0) - before[s]!.requests >= STATS));
  const [router, union, cache] = SERVICES.map((s) => ({ requests: after[s]!.requests - before[s]!.requests, busy: after[s]!.busyMicros - before[s]!.busyMicros }));
  // The router served the stats (and nothing else came in); each stat went down to union and on to client-cache.
  expect(router!.requests).toBe(STATS);
  expect(union!.requests).toBe(STATS);
  expect(cache!.requests).toBeGreaterThanOrEqual(STATS);
  // A thread's time includes what it waited for below: the same requests cost the router at least union's time.
  expect(cache!.busy).toBeGreaterThan(0);
  expect(union!.busy).toBeGreaterThanOrEqual(cache!.busy);
  expect(router!.busy).toBeGreaterThanOrEqual(union!.busy);
});

test("bulk data goes down the graph by reference: union and client-cache read and write it in the applications' region", async () => {
  const before = await betaStats();
  const data = new Uint8Array(1 << 20).map((_, i) => (i * 7 + 3) & 0xff);
  const fd = client.open(`${UNION}/bulk`, constants.O_CREAT | constants.O_RDWR | constants.O_TRUNC, 0o644);
  try {
    expect(client.pwrite(fd, data, 0)).toBe(data.length);
    const back = new Uint8Array(data.length);
    expect(client.pread(fd, back, 0)).toBe(data.length);
    expect(Buffer.compare(back, data)).toBe(0);
  } finally {
    client.close(fd);
  }
  // And through read(2)/write(2) at the descriptor's own position (the ring client's FileSystem, as fuse-legacy uses it).
  const ring = client.fileSystem(UNION);
  const handle = ring.open("/bulk-sequential", constants.O_CREAT | constants.O_RDWR | constants.O_TRUNC, 0o644);
  try {
    expect(ring.write(handle, data)).toBe(data.length);
    expect(ring.lseek(handle, 0, 0)).toBe(0);
    const back = new Uint8Array(data.length);
    expect(ring.read(handle, back)).toBe(data.length);
    expect(Buffer.compare(back, data)).toBe(0);
  } finally {
    ring.close(handle);
  }
  // Both channel hosts moved every megabyte in and out in place (published within a second).
  const moved = (stats: Record<string, Record<string, number>>, service: string) => stats[service]!.referencedBytes! - before[service]!.referencedBytes!;
  await waitFor("both hops by reference", async () => {
    const now = await betaStats();
    return moved(now, "union") >= 4 * data.length && moved(now, "client-cache") >= 4 * data.length;
  });
});

test("a copy-up copies inside client-cache: the lower file's bytes never come up the channel to the union", async () => {
  const before = await betaStats();
  const lower = BIG_LOWER;
  const fd = client.open(`${UNION}/big`, constants.O_RDWR, 0);
  try {
    expect(client.pwrite(fd, new Uint8Array([0xee]), 5)).toBe(1);
  } finally {
    client.close(fd);
  }
  const expected = Buffer.from(lower);
  expected[5] = 0xee;
  const upper = readFileSync(join(h.dir, "state/backends/beta/containers/c1/upper/big"));
  expect(upper.length).toBe(expected.length);
  expect(Buffer.compare(upper, expected)).toBe(0);
  // The lower stays as it was.
  expect(Buffer.compare(readFileSync(join(h.dir, "state/backends/beta/images/base/layer0/big")), Buffer.from(lower))).toBe(0);
  const copied = (stats: Record<string, Record<string, number>>) => stats["client-cache"]!.copiedBytes! - before["client-cache"]!.copiedBytes!;
  await waitFor("the copy-up counted in client-cache", async () => copied(await betaStats()) >= lower.length);
});

test("every thread of every process of beta runs on beta's core (its pool; the service threads are pinned too)", async () => {
  if (detectPoolSupport().kind === "unavailable") {
    console.warn("pools unavailable here (not root, or no cgroup controllers): the placement check is skipped");
    return;
  }
  const pids = Object.values(await h.pids("beta")).filter((pid): pid is number => pid !== null);
  expect(pids.length).toBe(3);
  for (const pid of pids) {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      let status: string;
      try {
        status = readFileSync(`/proc/${pid}/task/${task}/status`, "utf8");
      } catch {
        continue; // an extra service thread that retired meanwhile
      }
      const allowed = /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1];
      expect({ pid, task, allowed }).toEqual({ pid, task, allowed: String(LAST_CPU) });
    }
  }
});

describe.each(["union", "client-cache"] as const)("SIGKILL of %s alone", (service) => {
  test("a blocked request is answered, only that process restarts, the router's clients serve again, alpha is untouched", async () => {
    writeText(client, `${UNION}/before-${service}`, `written before the ${service} kill\n`);
    writeText(client, `${DIRECT}/before-${service}`, "direct\n");
    const before = await h.pids("beta");

    // A client blocked in a request the service holds with the slow fault (tried again while the fault is not applied).
    await h.ok({ cmd: "fault", kind: "slow", tenant: "beta", service, latencyMs: 30_000, durationMs: 60_000 });
    const child = spawnChild(join(import.meta.dir, "../data-path/blocked-client.ts"), { socket: join(h.dir, "state/run/beta/router.sock") }, "blocked client");
    await child.next<{ ready: true }>();
    let answer: Promise<{ ok: boolean; code?: string; ms: number }> | null = null;
    for (let attempt = 0; attempt < 20 && answer === null; attempt++) {
      child.send(`call ${UNION}/motd`);
      expect(await child.next()).toEqual({ calling: `${UNION}/motd` });
      const next = child.next<{ ok: boolean; code?: string; ms: number }>();
      const outcome = await Promise.race([next.then(() => "answered" as const), Bun.sleep(2000).then(() => "waiting" as const)]);
      if (outcome === "waiting") answer = next;
      else expect((await next).ok).toBe(true); // served before the fault reached the service: try again
    }
    expect(answer).not.toBeNull();

    const killed = (await h.ok({ cmd: "fault", kind: "kill", tenant: "beta", service })) as { pid: number };
    expect(killed.pid).toBe(before[service]!);
    const answered = await answer!; // a hang would end in the test's timeout
    expect(answered.ok).toBe(false);
    console.log(`${service} killed: the blocked call answered ${answered.code} after ${Math.round(answered.ms)} ms in all`);

    // Only that process is restarted.
    const after = await waitFor(`beta ${service} back`, async () => {
      const pids = await h.pids("beta");
      const status = (await h.tenant("beta")).services.find((s) => s.name === service)!;
      return status.state === "running" && pids[service] !== before[service] ? pids : null;
    });
    for (const other of Object.keys(before)) if (other !== service) expect(after[other]).toBe(before[other]!);

    // The router's client (registered before the kill) serves again through the new process, with what was acknowledged.
    // Each process above the restarted one renews its registration on its own (within 100 ms of the new listener):
    // wait until both mounts serve (the direct one through the router's registration, the union one through union's).
    await waitFor("both mounts serve again", () => {
      try {
        return readText(client, `${UNION}/before-${service}`) === `written before the ${service} kill\n` && readText(client, `${DIRECT}/before-${service}`) === "direct\n";
      } catch {
        return false;
      }
    });
    expect(readText(client, `${UNION}/motd`)).toBe("from the image\n");
    expect(readText(client, `${DIRECT}/before-${service}`)).toBe("direct\n");
    writeText(client, `${UNION}/after-${service}`, "after\n");
    expect(readText(client, `${UNION}/after-${service}`)).toBe("after\n");

    expect(await h.pids("alpha")).toEqual(alphaPids);
    for (const s of (await h.tenant("alpha")).services) expect(s.restarts).toBe(0);
  });
});
