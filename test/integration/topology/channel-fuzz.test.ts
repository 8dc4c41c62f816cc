/**
 * Fuzz on the channels between services (issue 14): in a fully split tenant, a hostile process registers with the
 * client-cache process's channel, then with the union process's, as the router does, and sends thousands of random and
 * half-plausible requests and garbage state words. The service answers errnos and keeps serving: it is not restarted,
 * none of its threads crashes or answers a handler bug, and an application writing and verifying its files through the
 * router (router → client-cache) sees no error and no wrong byte. What the hostile process held is released when it exits.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { channelSocketPath } from "../../../services/tenant-stack.ts";
import type { HostileReport } from "../../services/ipc-router/robustness/fuzz-hostile.ts";
import type { GoodReport } from "../../services/ipc-router/robustness/good-client.ts";
import { killChildren, spawnChild } from "../../services/ipc-router/robustness/helpers.ts";
import { Harness, waitFor } from "../harness.ts";

setDefaultTimeout(300_000);
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const GOOD_FILES = 4;

const tenant = [
  `name = "alpha"`, `cpus = [0]`, `memory = "512MiB"`, `shareCpus = true`,
  `topology = [["ipc-router"], ["union"], ["client-cache"]]`,
  `[backend]`, `kind = "local"`, `root = "backends/alpha"`,
  // The good client's mount (its files live under /m0, as in the router's own fuzz test).
  `[[mounts]]`, `path = "/m0"`, `source = "data"`,
  `[[mounts]]`, `path = "/mnt/test/u0"`, `upper = "containers/u0"`, `lowers = ["images/empty"]`,
].join("\n");

let h: Harness;
let scratch: string;

beforeAll(async () => {
  h = new Harness({ tenants: { alpha: tenant } });
  mkdirSync(join(h.dir, "state", "backends", "alpha", "images", "empty"), { recursive: true });
  await h.start(["alpha"]);
  scratch = mkdtempSync(join(tmpdir(), "danaus-channel-fuzz-"));
}, 120_000);
afterEach(killChildren);
afterAll(async () => {
  await h?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, 60_000);

describe.each(["client-cache", "union"] as const)("the %s channel", (host) => {
  test(`${ITERATIONS} hostile rounds on it while an application verifies its I/O through the router (seed ${SEED})`, async () => {
    console.log(`channel fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    const before = await h.pids("alpha");
    const held = async () => (await h.tenant("alpha")).stats?.[host];
    // A report written after this test began: one from before the router and union registered would count fewer clients.
    const since = Date.now();
    const heldBefore = await waitFor(`${host}'s report`, async () => {
      const now = await held();
      return now !== undefined && now.at > since ? now : null;
    });
    const stopFile = join(scratch, `stop-${host}`);
    const router = join(h.dir, "state/run/alpha/router.sock");
    const good = spawnChild(join(import.meta.dir, "../../services/ipc-router/robustness/good-client.ts"), { socket: router, seed: SEED, stopFile, files: GOOD_FILES, maxChunk: 96 * 1024 }, "good client");
    expect(await good.next()).toEqual({ ready: true, files: GOOD_FILES });

    const socket = channelSocketPath(join(h.dir, "state/run/alpha"), host);
    const hostile = spawnChild(join(import.meta.dir, "../../services/ipc-router/robustness/fuzz-hostile.ts"), { socket, iterations: ITERATIONS, seed: SEED }, "hostile client");
    const report = await hostile.next<HostileReport>();
    expect(await hostile.proc.exited).toBe(0);
    console.log(`hostile on ${host}: ${report.submitted} requests, answers ${JSON.stringify(report.answers)}`);
    expect(report.submitted).toBeGreaterThan(ITERATIONS / 2);

    writeFileSync(stopFile, "");
    const goodReport = await good.next<GoodReport>();
    expect(await good.proc.exited).toBe(0);
    expect(goodReport.errors).toEqual([]);
    expect(goodReport.mismatches).toEqual([]);
    expect(goodReport.ops).toBeGreaterThan(0);

    // The service kept serving in the same process, and let go of what the hostile process held.
    expect(await h.pids("alpha")).toEqual(before);
    let seen: unknown;
    try {
      await waitFor(`${host} released what the hostile client held`, async () => {
        const now = await held();
        seen = now?.stats;
        return now !== undefined && now.at !== heldBefore.at && ["clients", "openFiles", "buffersInUse"].every((k) => now.stats[k] === heldBefore.stats[k]);
      });
    } catch (error) {
      throw new Error(`${(error as Error).message}: before ${JSON.stringify(heldBefore.stats)}, last ${JSON.stringify(seen)}`);
    }
    const trouble = h.logs.filter((line) => line.includes("service thread crashed") || line.includes("request handler failed"));
    expect(trouble).toEqual([]);
  });
});
