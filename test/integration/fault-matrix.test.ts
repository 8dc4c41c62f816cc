/**
 * The fault matrix under load: every fault kind × every service of tenant beta (split topology, one process per
 * service), while alpha runs a verifying 4 KiB random read/write loop on both paths (the TypeScript client over the
 * ring, and node:fs through its FUSE mount). Alpha sees no error, no wrong byte, and keeps making progress; after each
 * fault both of beta's paths serve again (beta's own verifying loops, with `writeback = "sync"`, find every
 * acknowledged write); no process, mount or shared-memory file is left over, during the run or after it.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FAULT_KINDS, type FaultKind } from "../../kernel/control/index.ts";
import { detectPoolSupport } from "../../kernel/pool/index.ts";
import { isMountPoint } from "../../kernel/sys/mounts.ts";
import { killChildren } from "../services/ipc-router/robustness/helpers.ts";
import { alive, LAST_CPU, SPLIT_TOPOLOGY, waitFor } from "./harness.ts";
import { loopOptions, startPatiently, startTenantAgain, twoTenants } from "./load/two-tenants.ts";
import { VerifyLoop } from "./load/verify-loops.ts";

setDefaultTimeout(60_000);
const root = process.getuid?.() === 0 && existsSync("/dev/fuse");
if (!root) {
  if (process.env.CI === "true") throw new Error("fault-matrix.test.ts needs root and /dev/fuse, and CI has both");
  process.stderr.write("SKIP fault-matrix.test.ts: FUSE mounts need root and /dev/fuse\n");
}
const pinned = detectPoolSupport().kind !== "unavailable";

const SERVICES = ["client-cache", "union", "ipc-router", "fuse-legacy"] as const;
const SLOW = { latencyMs: 200, durationMs: 1500 };
const CRASHES = 2;
/** A hang guard for "beta serves again", not a threshold: the measured times are printed at the end. */
const SERVES_AGAIN_LIMIT_MS = 30_000;

const base = mkdtempSync(join(tmpdir(), "danaus-matrix-"));
const { h, alphaMount: ALPHA, betaMount: BETA } = twoTenants(base, {}, { topology: SPLIT_TOPOLOGY });
const loops: Record<"alphaClient" | "alphaKernel" | "betaClient" | "betaKernel", VerifyLoop> = {} as never;
/** What each cell measured, printed at the end. */
const measured: { cell: string; spawnToClientMs: number; spawnToKernelMs: number; readyToClientMs: number; readyToKernelMs: number }[] = [];
/**
 * False while a cell runs and after one that failed: the next cell then starts beta afresh and has every loop write
 * its files whole again (a lost write would fail every later read of it), so one defect fails one cell.
 */
let clean = true;

const options = (tenant: string, path: "client" | "kernel", mount: string, opsPerSecond: number) => loopOptions(h, tenant, path, mount, opsPerSecond, 2 << 20, 200);

beforeAll(async () => {
  if (!root) return;
  await startPatiently(h, ["alpha", "beta"]);
  await waitFor("both FUSE mounts", () => isMountPoint(ALPHA) && isMountPoint(BETA), 30_000);
  loops.alphaClient = await VerifyLoop.start(options("alpha", "client", ALPHA, 200), 0, "alpha client loop");
  loops.alphaKernel = await VerifyLoop.start(options("alpha", "kernel", ALPHA, 200), 0, "alpha kernel loop");
  loops.betaClient = await VerifyLoop.start(options("beta", "client", BETA, 100), LAST_CPU, "beta client loop");
  loops.betaKernel = await VerifyLoop.start(options("beta", "kernel", BETA, 100), LAST_CPU, "beta kernel loop");
}, 180_000);

afterAll(async () => {
  await killChildren();
  const alphaExits = h.logs.filter((line) => line.includes('"service exited"') && line.includes('"tenant":"alpha"') && !line.includes('"reason":"shutdown"'));
  if (alphaExits.length > 0) process.stderr.write(`fault matrix: alpha's service exits (there should be none):\n${alphaExits.join("\n")}\n`);
  await h.stop();
  for (const mount of [ALPHA, BETA]) if (isMountPoint(mount)) Bun.spawnSync(["umount", "-l", mount]);
  rmSync(base, { recursive: true, force: true });
  if (measured.length > 0) {
    process.stderr.write(`fault matrix: ms from beta's restart (spawn | seen ready; slow: the end of the slow period) until a call started after it succeeded (NaN: none within ${SERVES_AGAIN_LIMIT_MS} ms)\n`);
    const cell = (n: number) => String(n).padStart(5);
    for (const m of measured) {
      process.stderr.write(`  ${m.cell.padEnd(26)} client ${cell(m.spawnToClientMs)} | ${cell(m.readyToClientMs)}   kernel ${cell(m.spawnToKernelMs)} | ${cell(m.readyToKernelMs)}\n`);
    }
  }
}, 60_000);

/** Beta's shared-memory files of this instance. */
function shmFiles(): string[] {
  return readdirSync("/dev/shm").filter((name) => name.startsWith(`danaus.${h.instance}.`)).sort();
}

/** The processes in beta's pool (cgroup), or null without pools. */
function betaPoolProcs(): number[] | null {
  if (!pinned) return null;
  for (const hierarchy of ["memory", "cpuset", ""]) {
    const file = join("/sys/fs/cgroup", hierarchy, `danaus.${h.instance}`, "beta", "cgroup.procs");
    if (existsSync(file)) return readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number).sort((a, b) => a - b);
  }
  return null;
}

/** How many mounts sit on `path` (a detached mount left under a new one would make two). */
function mountsOn(path: string): number {
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((line) => line.split(" ")[4] === path).length;
}

/** Alpha's services as status shows them: any restart or new pid shows here. */
async function alphaServices(): Promise<string[]> {
  return (await h.tenant("alpha")).services.map((s) => `${s.name} pid ${s.pid} ${s.state} restarts ${s.restarts} last exit ${s.lastExit}`);
}

/** Waits until every service of beta runs and both of its paths answer calls started from now on. */
async function betaSettled(): Promise<void> {
  if (!clean) {
    await startTenantAgain(h, "beta", BETA);
    for (const loop of Object.values(loops)) await loop.layOutAgain();
  }
  await waitFor("beta running", async () => (await h.tenant("beta")).services.every((s) => s.state === "running"), 30_000);
  const now = Date.now();
  await loops.betaClient.servesAfter(now, SERVES_AGAIN_LIMIT_MS);
  await loops.betaKernel.servesAfter(now, SERVES_AGAIN_LIMIT_MS);
}

/** Sends the fault and waits for its effect; returns when the service was spawned again and when it was seen ready. */
async function inject(kind: FaultKind, service: string): Promise<{ spawnedAt: number; readyAt: number; oldPid: number }> {
  const before = (await h.tenant("beta")).services.find((s) => s.name === service)!;
  const oldPid = before.pid!;
  const extra = kind === "slow" ? SLOW : kind === "crash-loop" ? { times: CRASHES } : {};
  const injectedAt = Date.now();
  const reply = (await h.ok({ cmd: "fault", kind, tenant: "beta", service, ...extra })) as { pid: number };
  expect(reply.pid).toBe(oldPid);
  if (kind === "slow") {
    // No restart: the service is back to normal once the slow period is over.
    const end = injectedAt + SLOW.durationMs;
    await waitFor("the slow period over", () => Date.now() >= end, SLOW.durationMs + 5000);
    expect((await h.pids("beta"))[service]).toBe(oldPid);
    return { spawnedAt: end, readyAt: end, oldPid };
  }
  const restarts = before.restarts + (kind === "crash-loop" ? CRASHES : 1);
  const after = await waitFor(`beta ${service} restarted after ${kind}`, async () => {
    const s = (await h.tenant("beta")).services.find((x) => x.name === service)!;
    return s.state === "running" && s.pid !== null && s.pid !== oldPid && s.restarts >= restarts ? s : null;
  }, 30_000);
  const readyAt = Date.now();
  expect(after.restarts).toBe(restarts);
  return { spawnedAt: readyAt - after.uptimeMs!, readyAt, oldPid };
}

describe.skipIf(!root)("every fault kind × every service of beta, while alpha runs a verifying workload on both paths", () => {
  const cells = FAULT_KINDS.flatMap((kind) => SERVICES.map((service) => [kind, service] as const));

  test.each(cells)("%s %s: alpha sees no error and keeps going; both of beta's paths serve again; nothing left over", async (kind, service) => {
    await betaSettled();
    clean = false;
    const alphaBefore = await alphaServices();
    const shmBefore = shmFiles();
    const from = Date.now();
    const { spawnedAt, readyAt, oldPid } = await inject(kind, service);
    const served = await Promise.allSettled([
      loops.betaClient.servesAfter(spawnedAt, SERVES_AGAIN_LIMIT_MS),
      loops.betaKernel.servesAfter(spawnedAt, SERVES_AGAIN_LIMIT_MS),
    ]);
    const [clientAt, kernelAt] = served.map((s) => (s.status === "fulfilled" ? s.value : NaN)) as [number, number];
    measured.push({
      cell: `${kind} ${service}`,
      spawnToClientMs: Math.round(clientAt - spawnedAt),
      spawnToKernelMs: Math.round(kernelAt - spawnedAt),
      readyToClientMs: Math.round(clientAt - readyAt),
      readyToKernelMs: Math.round(kernelAt - readyAt),
    });
    for (const s of served) if (s.status === "rejected") throw s.reason;
    // Alpha keeps going: both its loops finish calls started after beta is back (and their reports arrive).
    const back = Date.now();
    await Promise.all([loops.alphaClient.servesAfter(back, SERVES_AGAIN_LIMIT_MS), loops.alphaKernel.servesAfter(back, SERVES_AGAIN_LIMIT_MS)]);
    const to = Date.now() + 1;

    // Alpha: both loops made calls during the cell, none failed, every read found what was written.
    const alpha = [loops.alphaClient.totals(from, to), loops.alphaKernel.totals(from, to)];
    for (const [i, totals] of alpha.entries()) {
      expect({ loop: i === 0 ? "client" : "kernel", errors: totals.errors, verifyFailures: totals.verifyFailures, samples: [...totals.errorSamples, ...totals.verifySamples] })
        .toEqual({ loop: i === 0 ? "client" : "kernel", errors: 0, verifyFailures: 0, samples: [] });
      expect(totals.reads + totals.writes).toBeGreaterThan(0);
    }
    expect(await alphaServices()).toEqual(alphaBefore);

    // Beta: what it acknowledged is there (sync write-back), whatever failed while the fault lasted.
    expect(loops.betaClient.totals(from, Infinity).verifySamples).toEqual([]);
    expect(loops.betaKernel.totals(from, Infinity).verifySamples).toEqual([]);

    // Nothing left over: the old process is gone, the pool holds exactly beta's processes, one mount, the same files.
    if (kind !== "slow") expect(alive(oldPid)).toBe(false);
    const betaPids = [...new Set(Object.values(await h.pids("beta")))].sort((a, b) => a! - b!);
    if (pinned) await waitFor("beta's pool holding only its services", () => JSON.stringify(betaPoolProcs()) === JSON.stringify(betaPids), 10_000);
    expect(mountsOn(BETA)).toBe(1);
    expect(mountsOn(ALPHA)).toBe(1);
    expect(shmFiles()).toEqual(shmBefore);

    clean = true;
  });

  test("at the end: alpha never failed, every loop stops cleanly, and stopping leaves no process, mount, cgroup or shared memory", async () => {
    for (const loop of Object.values(loops)) await loop.stop();
    for (const loop of [loops.alphaClient, loops.alphaKernel]) {
      const totals = loop.totals();
      expect({ errors: totals.errors, verifyFailures: totals.verifyFailures }).toEqual({ errors: 0, verifyFailures: 0 });
    }
    const everyPid = [...h.seenPids];
    await h.stop();
    expect(everyPid.filter(alive)).toEqual([]);
    expect(h.leftovers()).toEqual([]);
    expect([isMountPoint(ALPHA), isMountPoint(BETA)]).toEqual([false, false]);
  });
});
