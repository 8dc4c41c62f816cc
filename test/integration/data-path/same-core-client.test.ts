/**
 * A client on its tenant's own core always progresses: with a CPU hog and fio through the tenant's FUSE mount on that
 * same core, a TypeScript client pinned there completes its verified requests (spin budgets back off to futex sleeps
 * when the peer shares the core, so no spinner starves the core's other runnable threads). The event is the client's
 * completion report; how fast it goes is for the benchmarks.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import type { Subprocess } from "bun";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killChildren, spawnChild } from "../../services/ipc-router/robustness/helpers.ts";
import type { LoadReport } from "../../services/ipc-router/robustness/load-client.ts";
import { directLegacyTenant, fuseTestsRun, startLegacy, stopLegacy, type LegacySetup } from "./legacy-fixture.ts";

setDefaultTimeout(120_000);
const root = fuseTestsRun("same-core-client.test.ts");
const base = mkdtempSync(join(tmpdir(), "danaus-same-core-"));
const MOUNT = join(base, "mnt");
const LOAD_CLIENT = join(import.meta.dir, "..", "..", "services", "ipc-router", "robustness", "load-client.ts");
let setup: Partial<LegacySetup> = {};
const noise: Subprocess[] = [];

beforeAll(async () => {
  if (!root) return;
  setup = await startLegacy(directLegacyTenant(MOUNT), MOUNT);
}, 60_000);
afterAll(async () => {
  for (const proc of noise) proc.kill("SIGKILL");
  await Promise.all(noise.map((p) => p.exited));
  await killChildren();
  await stopLegacy(setup, MOUNT, base);
}, 60_000);

test.skipIf(!root)("a client pinned to the tenant's core, next to a CPU hog and fio through the FUSE mount, completes every request", async () => {
  noise.push(Bun.spawn(["taskset", "-c", "0", "sh", "-c", "while :; do :; done"], { stdio: ["ignore", "ignore", "ignore"] }));
  if (Bun.which("fio") !== null) {
    // --thread: the job runs in the process we stop by pid (a forked job would outlive its SIGKILLed parent).
    noise.push(Bun.spawn(["taskset", "-c", "0", "fio", "--name=neighbour", "--thread", `--directory=${MOUNT}`, "--rw=randrw", "--bs=4k", "--size=8m", "--ioengine=psync", "--time_based", "--runtime=600"],
      { stdio: ["ignore", "ignore", "ignore"] }));
  } else {
    noise.push(Bun.spawn(["taskset", "-c", "0", "sh", "-c", `while :; do dd if=/dev/zero of=${MOUNT}/dd bs=4k count=256 2>/dev/null; done`], { stdio: ["ignore", "ignore", "ignore"] }));
  }
  const socket = join(setup.h!.dir, "state/run/alpha/router.sock");
  const client = spawnChild(LOAD_CLIENT, { socket, id: 0, requests: 2000, mount: MOUNT }, "same-core client", ["taskset", "-c", "0"]);
  expect(await client.next()).toEqual({ ready: 0 });
  client.send("go");
  const report = await client.next<LoadReport>();
  expect(report.wrong).toEqual([]);
  expect(report.requests).toBe(2000);
  for (const proc of noise) expect(proc.exitCode).toBeNull();
});
