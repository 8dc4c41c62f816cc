/**
 * Extra service threads: while several clients keep a slowed-down queue busy, the router adds threads to it (more than
 * one shows in `threads`); once the load stops and the retire time passes, the extras retire and one thread remains,
 * still serving.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { constants } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DanausClient } from "../../../../shims/ts/client.ts";
import { startTestRouter, type TestRouter } from "../router-harness.ts";
import { eventually, killChildren, routerThreads, spawnChild, whileRouterLives } from "./helpers.ts";
import type { LoadReport } from "./load-client.ts";

const CLIENTS = 6;
let router: TestRouter;
let scratch: string;

beforeAll(async () => {
  router = await startTestRouter({ cpus: [0], limits: { retireAfterMs: 300, maxThreadsPerQueue: 3, busyThreshold: 3 } });
  scratch = mkdtempSync(join(tmpdir(), "danaus-threads-"));
}, 30_000);
afterEach(killChildren);
afterAll(async () => {
  await router?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, 30_000);

test("a busy queue gets extra service threads, which retire once it is idle again", async () => {
  expect(await routerThreads(router)).toEqual([1]);
  const stopFile = join(scratch, "stop");
  const clients = Array.from({ length: CLIENTS }, (_, id) =>
    spawnChild(join(import.meta.dir, "load-client.ts"), { socket: router.socket, id, requests: 0, stopFile }, `load client ${id}`));
  for (const [id, child] of clients.entries()) expect(await child.next()).toEqual({ ready: id });

  router.command("slow 3 120000");
  await routerThreads(router);
  for (const child of clients) child.send("go");
  const busy = await eventually("more than one service thread on the queue", async () => {
    const threads = await routerThreads(router);
    return threads[0]! > 1 ? threads : null;
  }, 60_000);
  console.log(`threads under load: ${busy}`);
  expect(busy[0]).toBeLessThanOrEqual(3);
  expect(router.logs.some((line) => line.includes("queue busy: adding a service thread"))).toBe(true);

  writeFileSync(stopFile, "");
  router.command("slow 0 1");
  const reports = await whileRouterLives(router, Promise.all(clients.map((child) => child.next<LoadReport>())));
  for (const report of reports) {
    expect(report.wrong).toEqual([]);
    expect(report.requests).toBeGreaterThan(0);
  }

  await eventually("the extra threads retired", async () => (await routerThreads(router))[0] === 1, 30_000);
  // The one that remains still serves.
  const client = DanausClient.connect({ socket: router.socket });
  try {
    const fd = client.open("/m0/after-retire", constants.O_CREAT | constants.O_RDWR | constants.O_TRUNC, 0o600);
    expect(client.write(fd, "served")).toBe(6);
    client.close(fd);
  } finally {
    client.disconnect();
  }
  expect(await routerThreads(router)).toEqual([1]);
}, 180_000);
