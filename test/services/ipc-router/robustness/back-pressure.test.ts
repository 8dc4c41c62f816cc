/**
 * Back-pressure: eight client processes, each making 600 requests through one queue of only two entries (slowed down
 * at first, so the queue is certainly full), all wait their turn: every request completes with the right result,
 * every byte lands, nothing is dropped, and the producers really did wait on a full queue.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startTestRouter, type TestRouter } from "../router-harness.ts";
import { eventually, killChildren, routerStats, spawnChild, whileRouterLives } from "./helpers.ts";
import type { LoadReport } from "./load-client.ts";

const CLIENTS = 8;
const REQUESTS = 600;
const RECORD = 64;
let router: TestRouter;

beforeAll(async () => {
  router = await startTestRouter({ cpus: [0], limits: { queueCapacity: 2 } });
}, 30_000);
afterEach(killChildren);
afterAll(() => router?.stop(), 30_000);

/** The record load-client.ts writes as its n-th. */
function record(id: number, n: number): Uint8Array {
  const bytes = new Uint8Array(RECORD);
  for (let i = 0; i < RECORD; i++) bytes[i] = (id * 31 + n * 7 + i) & 0xff;
  return bytes;
}

test(`${CLIENTS} clients × ${REQUESTS} requests through a 2-entry queue: all answered, none lost`, async () => {
  const clients = Array.from({ length: CLIENTS }, (_, id) =>
    spawnChild(join(import.meta.dir, "load-client.ts"), { socket: router.socket, id, requests: REQUESTS }, `load client ${id}`));
  for (const [id, child] of clients.entries()) expect(await child.next()).toEqual({ ready: id });
  expect(await routerStats(router)).toMatchObject({ clients: CLIENTS, openFiles: CLIENTS });

  // 1 ms per request for the first 1.5 s: two requests in service at most, six producers waiting for an entry.
  router.command("slow 1 1500");
  await routerStats(router);
  for (const child of clients) child.send("go");
  const reports = await whileRouterLives(router, Promise.all(clients.map((child) => child.next<LoadReport>())));

  for (const report of reports) expect({ id: report.id, requests: report.requests, wrong: report.wrong }).toEqual({ id: report.id, requests: REQUESTS, wrong: [] });
  const fullWaits = reports.reduce((sum, r) => sum + r.fullWaits, 0);
  console.log(`full-queue waits: ${fullWaits} of ${CLIENTS * REQUESTS} submissions`);
  expect(fullWaits).toBeGreaterThan(0);

  // Every write reached the file: record n at offset n·64.
  for (let id = 0; id < CLIENTS; id++) {
    const file = new Uint8Array(readFileSync(join(router.backendRoot, "m0", `load-${id}`)));
    expect(file.length).toBe((REQUESTS / 2) * RECORD);
    for (let n = 0; n < REQUESTS / 2; n++) {
      if (Buffer.compare(file.subarray(n * RECORD, (n + 1) * RECORD), record(id, n)) !== 0) throw new Error(`client ${id} record ${n} is wrong on disk`);
    }
  }
  await eventually("every client released", async () => {
    const stats = await routerStats(router);
    return stats.clients === 0 && stats.openFiles === 0 && stats.buffersInUse === 0;
  });
}, 180_000);
