/**
 * A request held in service: a router thread walking into a backend directory whose server stopped answering (a FUSE
 * mount inside the tenant's backend whose lookups of "stuck…" wait for the test) is held there. The watchdog notices,
 * adds a service thread so the one queue keeps serving other clients, and lists the held request in the router's
 * stats; once the backend answers again, the held client gets its reply and the extra thread retires.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { FuseServer } from "../../../../services/fuse-legacy/server/index.ts";
import { mountTestsSkipped, recordingLogger } from "../../fuse-legacy/fixtures/mount-support.ts";
import { startTestRouter, type TestRouter } from "../router-harness.ts";
import { eventually, killChildren, routerStats, routerThreads, spawnChild, whileRouterLives } from "./helpers.ts";

const skipped = mountTestsSkipped("held-request.test.ts");
const GATED_OPENER = new URL("./fixtures/open-gated.ts", import.meta.url).pathname;
const ONE_CALL = join(import.meta.dir, "fixtures", "one-call.ts");
let router: TestRouter | undefined;
let server: FuseServer | undefined;
let mountPoint = "";
const gate = new Int32Array(new SharedArrayBuffer(8));

beforeAll(async () => {
  if (skipped !== undefined) return;
  router = await startTestRouter({ cpus: [0], limits: { heldAfterMs: 300, retireAfterMs: 300 } });
  mountPoint = join(router.backendRoot, "m0", "slow");
  const served = join(router.backendRoot, "served");
  mkdirSync(mountPoint);
  mkdirSync(served);
  writeFileSync(join(served, "plain"), "plain");
  server = await FuseServer.start({ mountPoint, opener: { module: GATED_OPENER, spec: { root: served, gate: gate.buffer } }, logger: recordingLogger(), threads: 2, attrTimeoutMs: 0, entryTimeoutMs: 0 });
}, 30_000);
afterEach(killChildren);
afterAll(async () => {
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  try {
    await server?.stop();
  } finally {
    if (mountPoint && readFileSync("/proc/mounts", "utf8").includes(` ${mountPoint} `)) spawnSync("umount", ["-l", mountPoint]);
    await router?.stop();
  }
}, 30_000);

test.skipIf(skipped !== undefined)("a request held by a backend that stopped answering does not stop its queue; status lists it", async () => {
  const r = router!;
  expect(await routerThreads(r)).toEqual([1]);
  const held = spawnChild(ONE_CALL, { socket: r.socket, call: "lstat", path: "/m0/slow/stuck-here" }, "held client");
  const other = spawnChild(ONE_CALL, { socket: r.socket, call: "stat", path: "/m0/slow/plain" }, "other client");
  expect(await held.next()).toEqual({ connected: true });
  expect(await other.next()).toEqual({ connected: true });

  held.send("go");
  expect(await held.next()).toEqual({ calling: "lstat" });
  // The lookup reached the gated server: the one service thread is now held in the kernel.
  await eventually("the lookup held at the gate", () => Atomics.load(gate, 1) > 0);
  other.send("go");
  expect(await whileRouterLives(r, other.next())).toEqual({ calling: "stat" });
  expect(await whileRouterLives(r, other.next())).toEqual({ ok: true });

  const stats = await routerStats(r);
  const listed = (stats as unknown as { held: string[] }).held;
  console.log(`held: ${JSON.stringify(listed)}; threads ${stats.threads}`);
  expect(listed.length).toBe(1);
  expect(listed[0]).toContain("lstat '/slow/stuck-here'");
  expect(stats.threads[0]).toBeGreaterThan(1);
  expect(r.logs.some((line) => line.includes("every service thread of the queue is held: adding one"))).toBe(true);

  // The backend answers again: the held client gets its reply (the name does not exist), nothing is held any more.
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  expect(await whileRouterLives(r, held.next())).toEqual({ errno: "ENOENT" });
  await eventually("no request held", async () => ((await routerStats(r)) as unknown as { held: string[] }).held.length === 0);
  await eventually("the extra threads retired", async () => (await routerThreads(r))[0] === 1);
}, 120_000);
