/**
 * Directory streams per client: a client gets exactly the router's `maxDirStreams` and EMFILE past it, whatever other
 * clients hold; a client SIGKILLed while holding its streams gives every one of them back, so round after round of
 * killed holders never fills the open-file table.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestRouter, type TestRouter } from "../router-harness.ts";
import { eventually, killChildren, routerStats, spawnChild } from "./helpers.ts";

const HOLDER = join(import.meta.dir, "dir-stream-holder.ts");
const LIMIT = 40;
/** Open-file table slots: fewer than the streams of all the rounds together, so a leak fills it. */
const TABLE = 128;
const ROUNDS = 6;

let router: TestRouter;

beforeAll(async () => {
  router = await startTestRouter({ maxDirStreams: LIMIT, limits: { maxOpenFiles: TABLE } });
}, 30_000);
afterEach(killChildren);
afterAll(() => router?.stop(), 30_000);

test("each client gets maxDirStreams streams and EMFILE past it; a killed holder releases all of them", async () => {
  // Two holders at once: each has its own count.
  const first = spawnChild(HOLDER, { socket: router.socket, streams: LIMIT });
  const second = spawnChild(HOLDER, { socket: router.socket, streams: LIMIT });
  expect(await first.next()).toEqual({ held: LIMIT, next: "EMFILE" });
  expect(await second.next()).toEqual({ held: LIMIT, next: "EMFILE" });
  expect(await routerStats(router)).toMatchObject({ openFiles: 2 * LIMIT });
  await first.kill();
  await second.kill();
  for (let round = 0; round < ROUNDS; round++) {
    await eventually("the killed holders' streams released", async () => ((await routerStats(router)).openFiles === 0 ? true : null));
    const holder = spawnChild(HOLDER, { socket: router.socket, streams: LIMIT });
    expect(await holder.next()).toEqual({ held: LIMIT, next: "EMFILE" });
    await holder.kill();
  }
  await eventually("the last holder's streams released", async () => ((await routerStats(router)).openFiles === 0 ? true : null));
});
