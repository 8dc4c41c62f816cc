/**
 * A bounded soak: tenant alpha serves fio's verifying 4 KiB random read/write through its FUSE mount (the kernel
 * path) and a verifying client loop (the user-level path) for `DANAUS_SOAK_MS` (default 90 s). Neither sees an error
 * or a wrong byte, no service restarts, and after warm-up (the first third) every service process's RSS stays within
 * the bound in rss.ts: the cache size plus the documented allowance.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMountPoint } from "../../kernel/sys/mounts.ts";
import { killChildren } from "../services/ipc-router/robustness/helpers.ts";
import { Harness, waitFor } from "./harness.ts";
import { runFioVerify } from "./load/fio-verify.ts";
import { legacyTenantToml } from "./load/legacy-tenant.ts";
import { startPatiently } from "./load/two-tenants.ts";
import { RSS_ALLOWANCE_BYTES, rssBoundBytes, RssSampler, slopeMbPerMinute } from "./load/rss.ts";
import { VerifyLoop } from "./load/verify-loops.ts";

const SOAK_MS = Number(process.env.DANAUS_SOAK_MS ?? 90_000);
const WARM_UP_MS = SOAK_MS / 3;
const MiB = 1024 * 1024;
const CACHE_BYTES = 32 * MiB;
setDefaultTimeout(SOAK_MS + 120_000);

const root = process.getuid?.() === 0 && existsSync("/dev/fuse");
if (!root) {
  if (process.env.CI === "true") throw new Error("soak.test.ts needs root and /dev/fuse, and CI has both");
  process.stderr.write("SKIP soak.test.ts: FUSE mounts need root and /dev/fuse\n");
}

const base = mkdtempSync(join(tmpdir(), "danaus-soak-"));
const MOUNT = join(base, "alpha");
const h = new Harness({
  tenants: { alpha: legacyTenantToml({ name: "alpha", cpu: 0, mount: MOUNT, memory: "1GiB", cacheSize: `${CACHE_BYTES / MiB}MiB` }) },
});

beforeAll(async () => {
  if (!root) return;
  await startPatiently(h, ["alpha"]);
  await waitFor("the FUSE mount", () => isMountPoint(MOUNT), 30_000);
}, 180_000);

afterAll(async () => {
  await killChildren();
  await h.stop();
  if (isMountPoint(MOUNT)) Bun.spawnSync(["umount", "-l", MOUNT]);
  rmSync(base, { recursive: true, force: true });
}, 60_000);

test.skipIf(!root)(`fio and a client loop for ${SOAK_MS / 1000} s: no error, no wrong byte, no restart, each service's RSS after warm-up within cache + ${RSS_ALLOWANCE_BYTES / MiB} MiB`, async () => {
  const socket = join(h.dir, "state/run/alpha/router.sock");
  const loop = await VerifyLoop.start({ path: "client", socket, dir: MOUNT, name: "client-loop", files: 2, fileBytes: 4 * MiB, opsPerSecond: 500, reportMs: 1000 }, 0, "client loop");
  const sampler = new RssSampler(h, ["alpha"], 2000);
  const started = Date.now();
  const fio = runFioVerify({ dir: MOUNT, cpu: 0, seconds: Math.round(SOAK_MS / 1000), iopsEach: 250, fileBytes: 4 * MiB });
  const result = await fio.result;
  await loop.stop();
  await sampler.stop();

  expect({ exitCode: result.exitCode, error: result.error, stderr: result.stderr }).toEqual({ exitCode: 0, error: 0, stderr: "" });
  expect(result.reads + result.writes).toBeGreaterThan(0);
  const totals = loop.totals();
  expect({ errors: totals.errors, verifyFailures: totals.verifyFailures, samples: [...totals.errorSamples, ...totals.verifySamples] }).toEqual({ errors: 0, verifyFailures: 0, samples: [] });
  expect(totals.reads + totals.writes).toBeGreaterThan(0);
  expect((await h.tenant("alpha")).services.filter((s) => s.restarts !== 0)).toEqual([]);

  const bound = rssBoundBytes(CACHE_BYTES);
  const processes = [...new Set(sampler.samples.map((s) => s.process))];
  expect(processes.length).toBe(2); // the data-path process and fuse-legacy
  const report = processes.map((name) => {
    const all = sampler.series("alpha", name);
    const after = sampler.series("alpha", name, started + WARM_UP_MS);
    const mb = (b: number) => Math.round(b / MiB);
    return {
      process: name,
      samples: after.length,
      firstMiB: mb(all[0]!.rssBytes),
      atWarmUpMiB: mb(after[0]!.rssBytes),
      maxAfterWarmUpMiB: mb(Math.max(...after.map((s) => s.rssBytes))),
      slopeMbPerMin: Math.round(slopeMbPerMinute(after) * 10) / 10,
      overBound: after.filter((s) => s.rssBytes > bound).length,
    };
  });
  process.stderr.write(`soak: fio ${result.reads} reads ${result.writes} writes, client loop ${totals.reads} reads ${totals.writes} writes; RSS bound ${bound / MiB} MiB\n`);
  for (const r of report) process.stderr.write(`  ${JSON.stringify(r)}\n`);
  for (const r of report) {
    expect(r.samples).toBeGreaterThan(0);
    expect(r).toMatchObject({ process: r.process, overBound: 0 });
  }
});
