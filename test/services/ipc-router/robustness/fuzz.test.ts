/**
 * Fuzz: a hostile client process writes random bytes into its buffer, random descriptors into entries it claims and
 * garbage into empty state words for thousands of rounds, while a well-behaved client process keeps writing and
 * verifying its own files. The good client sees no error and no wrong byte, the router survives and answers, and what
 * the hostile process held is released once it exits. Replay a failure with FUZZ_SEED=<the printed seed>.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { constants } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DanausClient } from "../../../../shims/ts/client.ts";
import { startTestRouter, type TestRouter } from "../router-harness.ts";
import type { GoodReport } from "./good-client.ts";
import type { HostileReport } from "./fuzz-hostile.ts";
import { eventually, killChildren, routerStats, spawnChild, whileRouterLives } from "./helpers.ts";

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const BUFFER_SIZE = 64 * 1024;
const GOOD_FILES = 4;
/** Two queues when the machine has two cores, so the hostile process attacks a queue the good client does not use too. */
const CPUS = navigator.hardwareConcurrency > 1 ? [0, 1] : [0];

let router: TestRouter;
let scratch: string;

beforeAll(async () => {
  router = await startTestRouter({ cpus: CPUS, limits: { queueCapacity: 8, bufferCount: 8, bufferSize: BUFFER_SIZE } });
  scratch = mkdtempSync(join(tmpdir(), "danaus-fuzz-"));
}, 30_000);
afterEach(killChildren);
afterAll(async () => {
  await router?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, 30_000);

test(`fuzz: ${ITERATIONS} hostile rounds while a good client verifies its I/O (seed ${SEED})`, async () => {
  console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
  const stopFile = join(scratch, "stop");
  const good = spawnChild(join(import.meta.dir, "good-client.ts"), { socket: router.socket, seed: SEED, stopFile, files: GOOD_FILES, maxChunk: 3 * BUFFER_SIZE }, "good client");
  expect(await good.next()).toEqual({ ready: true, files: GOOD_FILES });

  const hostile = spawnChild(join(import.meta.dir, "fuzz-hostile.ts"), { socket: router.socket, iterations: ITERATIONS, seed: SEED }, "hostile client");
  const report = await whileRouterLives(router, hostile.next<HostileReport>());
  expect(await hostile.proc.exited).toBe(0);
  console.log(`hostile: ${report.submitted} requests, ${report.garbageStates} garbage state words, answers ${JSON.stringify(report.answers)}`);
  expect(report.iterations).toBe(ITERATIONS);
  expect(report.submitted).toBeGreaterThan(ITERATIONS / 2);

  // Once the hostile process is gone, only the good client's registration, buffer and files remain.
  await eventually("the hostile client's files and buffer released", async () => {
    const stats = await routerStats(router);
    return stats.clients === 1 && stats.openFiles === GOOD_FILES && stats.buffersInUse === 1;
  });

  writeFileSync(stopFile, "");
  const goodReport = await whileRouterLives(router, good.next<GoodReport>());
  expect(await good.proc.exited).toBe(0);
  console.log(`good client: ${goodReport.ops} operations, ${goodReport.bytesVerified} bytes verified`);
  expect(goodReport.errors).toEqual([]);
  expect(goodReport.mismatches).toEqual([]);
  expect(goodReport.ops).toBeGreaterThan(0);

  // The router is alive and answers a new client; nothing is left held.
  expect(router.proc.exitCode).toBeNull();
  const fresh = DanausClient.connect({ socket: router.socket });
  try {
    const fd = fresh.open("/m0/after-fuzz", constants.O_CREAT | constants.O_RDWR | constants.O_TRUNC, 0o600);
    expect(fresh.write(fd, "alive")).toBe(5);
    fresh.close(fd);
  } finally {
    fresh.disconnect();
  }
  const final = await eventually("everything released", async () => {
    const stats = await routerStats(router);
    return stats.clients === 0 && stats.openFiles === 0 && stats.buffersInUse === 0 ? stats : null;
  });
  expect(final.threads.every((n) => n >= 1)).toBe(true);
  const crashes = router.logs.filter((line) => line.includes("service thread crashed"));
  expect(crashes).toEqual([]);
  const bugs = router.logs.filter((line) => line.includes("request handler failed"));
  if (bugs.length > 0) console.log(`handler bugs answered EIO:\n${bugs.slice(0, 5).join("\n")}`);
  expect(bugs).toEqual([]);
}, 300_000);
