/**
 * A client process SIGKILLed while one of its requests is being served (made slow by a `slow` fault longer than the
 * registry's reclaim passes) leaks nothing: its open files are closed (including the one its in-flight open creates
 * after it died), its queue entry is freed, and its request buffer is handed back only once no request uses it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { constants } from "node:fs";
import { join } from "node:path";
import { ENTRY, ENTRY_STATE } from "../../../../kernel/ipc/protocol/index.ts";
import { Region } from "../../../../kernel/ipc/ring/index.ts";
import { DanausClient } from "../../../../shims/ts/client.ts";
import { startTestRouter, type TestRouter } from "../router-harness.ts";
import { eventually, killChildren, routerStats, spawnChild } from "./helpers.ts";
import { RawRing } from "./raw-ring.ts";

const VICTIM = join(import.meta.dir, "victim-client.ts");
/** Longer than the registry's fixed reclaim passes (at 0, 100 and 1100 ms after the death), so the request outlives them. */
const SLOW_MS = 2500;

let router: TestRouter;
let raw: RawRing;

beforeAll(async () => {
  router = await startTestRouter({ limits: { queueCapacity: 4 } });
  raw = new RawRing(Region.open(`${router.runtime.shmPrefix}region`), 0);
}, 30_000);
afterEach(killChildren);
afterAll(() => router?.stop(), 30_000);

/** Entries of `client` that are not EMPTY (VALID, SERVING or DONE). */
function entriesOf(client: number): number[] {
  const view = raw.region.view;
  return raw.states().flatMap((state, slot) =>
    state !== ENTRY_STATE.EMPTY && view.getUint32(raw.queue.entryOffset(slot) + ENTRY.offsets.client, true) === client >>> 0 ? [slot] : []);
}

async function killMidRequest(op: "open" | "pread"): Promise<void> {
  const victim = spawnChild(VICTIM, { socket: router.socket, files: 3 });
  const { client } = await victim.next<{ opened: number; client: number }>();
  expect(await routerStats(router)).toMatchObject({ clients: 1, openFiles: 3, buffersInUse: 1 });

  router.command(`slow ${SLOW_MS} 500`);
  await routerStats(router); // answered after the slow command was applied
  victim.send(`go ${op}`);
  expect(await victim.next()).toEqual({ calling: op });
  // The request is in flight once a service thread took it (SERVING): it sleeps there for SLOW_MS.
  await eventually("the victim's request being served", () =>
    entriesOf(client).some((slot) => raw.states()[slot] === ENTRY_STATE.SERVING));
  await victim.kill();

  // Until everything is released, a free buffer must never coexist with an entry still using it.
  const final = await eventually("everything the victim held released", async () => {
    const stats = await routerStats(router);
    const entries = entriesOf(client);
    if (stats.buffersInUse === 0 && entries.length > 0) throw new Error(`buffer freed while entries ${entries} of the dead client are in use`);
    return stats.clients === 0 && stats.openFiles === 0 && stats.buffersInUse === 0 && entries.length === 0 ? stats : null;
  }, 30_000);
  expect(final).toMatchObject({ clients: 0, openFiles: 0, buffersInUse: 0 });
  expect(raw.states().every((state) => state === ENTRY_STATE.EMPTY)).toBe(true);

  // The service goes on: a new client gets the buffer back and works.
  const next = DanausClient.connect({ socket: router.socket });
  try {
    const fd = next.open("/m0/after", constants.O_CREAT | constants.O_RDWR | constants.O_TRUNC, 0o600);
    expect(next.write(fd, "still serving")).toBe(13);
    next.close(fd);
    expect(await routerStats(router)).toMatchObject({ clients: 1, openFiles: 0, buffersInUse: 1 });
  } finally {
    next.disconnect();
  }
  await eventually("the new client released", async () => (await routerStats(router)).clients === 0);
}

describe("a client killed mid-request", () => {
  test("killed during a slow open: its files, including the one the open creates after its death, are closed", () => killMidRequest("open"), 60_000);
  test("killed during a slow pread: its buffer is reclaimed only after the service stopped writing into it", () => killMidRequest("pread"), 60_000);
});
