/**
 * A client that rewrites its request buffer while the service decodes paths from it (a double-fetch attack on shared
 * memory) cannot crash the router: the service decodes a private copy of the window. A well-behaved client keeps working.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { constants } from "node:fs";
import { join } from "node:path";
import { DanausClient } from "../../../../shims/ts/client.ts";
import { startTestRouter, type TestRouter } from "../router-harness.ts";
import { eventually, killChildren, routerStats, spawnChild, whileRouterLives } from "./helpers.ts";

const REQUESTS = 20_000;
let router: TestRouter;

beforeAll(async () => {
  router = await startTestRouter({ cpus: navigator.hardwareConcurrency > 1 ? [0, 1] : [0], limits: { bufferCount: 4, bufferSize: 65536 } });
}, 30_000);
afterEach(killChildren);
afterAll(() => router?.stop(), 30_000);

test(`${REQUESTS} path requests decoded while the client rewrites the window under them: the router survives`, async () => {
  const flipper = spawnChild(join(import.meta.dir, "buffer-flipper.ts"), { socket: router.socket, requests: REQUESTS }, "buffer flipper");
  const report = await whileRouterLives(router, flipper.next<{ requests: number; answers: Record<string, number> }>());
  console.log(`flipper answers: ${JSON.stringify(report.answers)}`);
  expect(Object.values(report.answers).reduce((a, b) => a + b, 0)).toBe(REQUESTS);
  expect(await flipper.proc.exited).toBe(0);

  expect(router.proc.exitCode).toBeNull();
  const good = DanausClient.connect({ socket: router.socket });
  try {
    const fd = good.open("/m0/after-race", constants.O_CREAT | constants.O_RDWR | constants.O_TRUNC, 0o600);
    expect(good.write(fd, "alive")).toBe(5);
    good.close(fd);
  } finally {
    good.disconnect();
  }
  await eventually("everything released", async () => {
    const stats = await routerStats(router);
    return stats.clients === 0 && stats.openFiles === 0 && stats.buffersInUse === 0;
  });
}, 180_000);
