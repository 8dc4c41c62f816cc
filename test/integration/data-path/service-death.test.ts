/**
 * The tenant service dies under a blocked client (real supervisor, default topology: client-cache, union and
 * ipc-router in one process). A client process blocked on a request the `slow` fault holds in service gets ENOTCONN once
 * the ipc-router is killed, without hanging; after the supervisor restarted the service, its next call reconnects
 * and works, and a descriptor opened before the restart answers ESTALE.
 */
import { afterAll, afterEach, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { ENTRY, ENTRY_STATE } from "../../../kernel/ipc/protocol/index.ts";
import { Region } from "../../../kernel/ipc/ring/index.ts";
import { killChildren, spawnChild, type Child } from "../../services/ipc-router/robustness/helpers.ts";
import { Harness, tenantToml, waitFor } from "../harness.ts";

setDefaultTimeout(120_000);
const MOUNT = "/mnt/test/alpha";
let h: Harness;

beforeAll(async () => {
  h = new Harness({ tenants: { alpha: tenantToml("alpha", 0, "", "") } });
  await h.start(["alpha"]);
}, 60_000);
afterEach(killChildren);
afterAll(() => h?.stop(), 60_000);

type Answer = { ok: boolean; code?: string; message?: string; ms: number; fd?: number; data?: string; client?: number };

/** Whether an entry of `client` is being served in the tenant's region right now. */
function servingFor(client: number): boolean {
  const region = Region.open(`/dev/shm/danaus.${h.instance}.alpha.region`);
  const { queueCount, queueCapacity } = region.layout.params;
  for (let q = 0; q < queueCount; q++) {
    for (let slot = 0; slot < queueCapacity; slot++) {
      const at = region.layout.entryOffset(q, slot);
      if (Atomics.load(region.words, at >> 2) === ENTRY_STATE.SERVING && region.view.getUint32(at + ENTRY.offsets.client, true) === client) return true;
    }
  }
  return false;
}

/** Makes `child` issue a call that stays in service (retrying while the slow fault is not applied yet). */
async function blockOnSlowCall(child: Child, client: number): Promise<{ answer: Promise<Answer> }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    child.send(`call ${MOUNT}`);
    expect(await child.next()).toEqual({ calling: MOUNT });
    const answer = child.next<Answer>();
    const outcome = await Promise.race([answer.then(() => "answered" as const), Bun.sleep(2000).then(() => "blocked" as const)]);
    if (outcome === "blocked") {
      // Still waiting two seconds later, with its request held by a service thread: blocked by the fault.
      expect(servingFor(client)).toBe(true);
      return { answer }; // wrapped: an async function returning the promise itself would wait for it
    }
    expect((await answer).ok).toBe(true); // answered before the fault reached the service: try again
  }
  throw new Error("the slow fault never held a request");
}

test("a client blocked in a call gets ENOTCONN when the service is killed, then reconnects; old fds answer ESTALE", async () => {
  const socket = join(h.dir, "state/run/alpha/router.sock");
  const child = spawnChild(join(import.meta.dir, "blocked-client.ts"), { socket }, "blocked client");
  const ready = await child.next<{ ready: true; client: number }>();
  child.send(`open ${MOUNT}/before-restart`);
  const opened = await child.next<Answer>();
  expect(opened).toMatchObject({ ok: true });
  child.send(`read ${opened.fd}`);
  expect(await child.next()).toMatchObject({ ok: true, data: "before" });

  const before = (await h.pids("alpha"))["ipc-router"]!;
  await h.ok({ cmd: "fault", kind: "slow", tenant: "alpha", service: "ipc-router", latencyMs: 30_000, durationMs: 60_000 });
  const blocked = (await blockOnSlowCall(child, ready.client)).answer;

  const killedAt = performance.now();
  const killed = (await h.ok({ cmd: "fault", kind: "kill", tenant: "alpha", service: "ipc-router" })) as { pid: number };
  expect(killed.pid).toBe(before);
  const failed = await blocked;
  console.log(`the blocked call failed ${Math.round(performance.now() - killedAt)} ms after the kill: ${failed.message}`);
  expect(failed).toMatchObject({ ok: false, code: "ENOTCONN" });

  // Before the service is back: the old descriptor is stale, a new call fails ENOTCONN or (once back) works.
  child.send(`read ${opened.fd}`);
  expect(await child.next()).toMatchObject({ ok: false, code: "ESTALE" });

  await waitFor("ipc-router restarted", async () => {
    const service = (await h.tenant("alpha")).services.find((s) => s.name === "ipc-router")!;
    return service.state === "running" && service.pid !== null && service.pid !== before;
  }, 30_000);
  child.send(`roundtrip ${MOUNT}/after-restart`);
  const again = await child.next<Answer>();
  expect(again).toMatchObject({ ok: true, data: "after" });
  expect(again.client).not.toBe(ready.client); // a new registration with the new service

  child.send(`read ${opened.fd}`);
  expect(await child.next()).toMatchObject({ ok: false, code: "ESTALE" });
  child.send(`close ${opened.fd}`);
  expect(await child.next()).toMatchObject({ ok: true });
  child.send(`read ${opened.fd}`);
  expect(await child.next()).toMatchObject({ ok: false, code: "EBADF" });
});
