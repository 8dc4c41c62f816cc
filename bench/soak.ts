/**
 * @module soak — `bun run bench soak [--minutes N]`: tenant alpha serves fio's verifying 4 KiB random read/write
 * through its FUSE mount and a verifying client loop, first for one fault-free minute (the baseline and warm-up), then
 * for N minutes (default 10) while a fault is injected into its neighbour beta every 30 s (beta runs verifying loops
 * on both paths too). Prints RSS per service over time (slope after warm-up), p50/p99 latency per minute, errors and
 * restarts, and writes bench/results/soak.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FAULT_KINDS } from "../kernel/control/index.ts";
import { isMountPoint } from "../kernel/sys/mounts.ts";
import { LAST_CPU, waitFor } from "../test/integration/harness.ts";
import { runFioVerify, type FioResult } from "../test/integration/load/fio-verify.ts";
import { rssBoundBytes, RssSampler, slopeMbPerMinute } from "../test/integration/load/rss.ts";
import { loopOptions, startPatiently, startTenantAgain, twoTenants } from "../test/integration/load/two-tenants.ts";
import { VerifyLoop } from "../test/integration/load/verify-loops.ts";
import { killChildren } from "../test/services/ipc-router/robustness/helpers.ts";
import { printTable, quantile } from "./stats.ts";

const MiB = 1024 * 1024;
const CACHE_BYTES = 32 * MiB;
const MINUTE_MS = 60_000;
const FAULT_EVERY_MS = 30_000;
const RSS_EVERY_MS = 5000;
/** Beta's process groups (the default topology), each a fault target in turn. */
const TARGETS = ["union", "fuse-legacy"] as const;
const SLOW = { latencyMs: 200, durationMs: 5000 };

/** `--minutes N` from the command line (default 10). */
function minutesArg(): number {
  const at = process.argv.indexOf("--minutes");
  const value = at >= 0 ? Number(process.argv[at + 1]) : 10;
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write("usage: bun run bench soak [--minutes N]   (N > 0, default 10)\n");
    process.exit(2);
  }
  return value;
}

/** One fault order sent to beta, and what came of it. */
interface FaultRecord {
  at: number;
  kind: string;
  service: string;
  ok: boolean;
  error?: string;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Runs the benchmark and writes bench/results/soak.json. */
export async function run(): Promise<void> {
  const minutes = minutesArg();
  const base = mkdtempSync(join(tmpdir(), "danaus-bench-soak-"));
  const { h, alphaMount: ALPHA, betaMount: BETA } = twoTenants(base, { memory: "1GiB" }, { memory: "512MiB" });
  const options = (tenant: string, path: "client" | "kernel", dir: string, opsPerSecond: number) => loopOptions(h, tenant, path, dir, opsPerSecond, 4 * MiB, 1000);
  try {
    await startPatiently(h, ["alpha", "beta"]);
    await waitFor("both FUSE mounts", () => isMountPoint(ALPHA) && isMountPoint(BETA), 30_000);
    const alphaClient = await VerifyLoop.start(options("alpha", "client", ALPHA, 500), 0, "alpha client loop");
    const betaClient = await VerifyLoop.start(options("beta", "client", BETA, 200), LAST_CPU, "beta client loop");
    const betaKernel = await VerifyLoop.start(options("beta", "kernel", BETA, 200), LAST_CPU, "beta kernel loop");
    const sampler = new RssSampler(h, ["alpha", "beta"], RSS_EVERY_MS);
    const faults: FaultRecord[] = [];
    let betaStartTenant = 0;
    let next = 0;

    const injectOne = async (): Promise<void> => {
      const kind = FAULT_KINDS[next % FAULT_KINDS.length]!;
      const service = TARGETS[Math.floor(next / FAULT_KINDS.length) % TARGETS.length]!;
      next++;
      // A beta that went past its restart intensity is started again, so every fault lands on a running tenant.
      if ((await h.tenant("beta").catch(() => null))?.state !== "running") {
        await startTenantAgain(h, "beta", BETA).catch(() => {});
        betaStartTenant++;
      }
      const extra = kind === "slow" ? SLOW : kind === "crash-loop" ? { times: 2 } : {};
      const at = Date.now();
      try {
        const reply = await h.ctl({ cmd: "fault", kind, tenant: "beta", service, ...extra });
        faults.push({ at, kind, service, ok: reply.ok, ...(reply.ok ? {} : { error: `${reply.error.code} ${reply.error.message}` }) });
      } catch (error) {
        faults.push({ at, kind, service, ok: false, error: String(error) });
      }
    };

    const rows: { minute: number; faulted: boolean; from: number; to: number; fio: FioResult; client: number[]; alphaErrors: number; betaErrors: number; faults: string[] }[] = [];
    for (let minute = 0; minute <= minutes; minute++) {
      const faulted = minute > 0;
      const from = Date.now();
      const fio = runFioVerify({ dir: ALPHA, cpu: 0, seconds: MINUTE_MS / 1000, iopsEach: 250, fileBytes: 4 * MiB, name: "fio-soak" });
      const timers: Promise<void>[] = [];
      if (faulted) for (let at = 0; at < MINUTE_MS; at += FAULT_EVERY_MS) timers.push(Bun.sleep(at).then(injectOne));
      const result = await fio.result;
      await Promise.all(timers);
      const to = Date.now();
      const alpha = alphaClient.totals(from, to);
      const betaErrors = betaClient.totals(from, to).errors + betaKernel.totals(from, to).errors;
      rows.push({
        minute, faulted, from, to, fio: result, client: alphaClient.latencies(from, to),
        alphaErrors: alpha.errors,
        betaErrors,
        faults: faults.filter((f) => f.at >= from && f.at < to).map((f) => `${f.kind} ${f.service}${f.ok ? "" : " (refused)"}`),
      });
      process.stderr.write(`soak: minute ${minute}${faulted ? "" : " (baseline)"} done\n`);
    }
    await sampler.stop();
    for (const loop of [alphaClient, betaClient, betaKernel]) await loop.stop();

    const warmUpEnd = rows[0]!.to;
    const status = await h.status();
    const memory = status.flatMap((t) => [...new Set(t.services.map((s) => s.process))].map((processName) => {
      const all = sampler.series(t.name, processName);
      const after = sampler.series(t.name, processName, warmUpEnd);
      const lastPid = after.at(-1)?.pid;
      const lastLife = after.filter((s) => s.pid === lastPid);
      return {
        tenant: t.name,
        process: processName,
        atStartMiB: round((all[0]?.rssBytes ?? NaN) / MiB, 1),
        afterWarmUpMiB: round((after[0]?.rssBytes ?? NaN) / MiB, 1),
        maxAfterWarmUpMiB: round(Math.max(...after.map((s) => s.rssBytes)) / MiB, 1),
        endMiB: round((after.at(-1)?.rssBytes ?? NaN) / MiB, 1),
        /** Over the last process life after warm-up (a restart starts a new one). */
        slopeMbPerMin: round(slopeMbPerMinute(lastLife), 2),
        processLives: new Set(after.map((s) => s.pid)).size,
        overTime: after.filter((_, i) => i % 6 === 0).map((s) => ({ s: Math.round((s.t - warmUpEnd) / 1000), mib: round(s.rssBytes / MiB, 1) })),
      };
    }));
    const restarts = Object.fromEntries(status.map((t) => [t.name, t.services.reduce((n, s) => n + s.restarts, 0)]));
    const alphaTotals = alphaClient.totals();
    const baselineClient = rows[0]!.client;
    const faultedClient = rows.slice(1).flatMap((r) => r.client);
    const perMinute = rows.map((r) => ({
      minute: r.minute,
      faulted: r.faulted,
      clientP50Ms: round(quantile(r.client, 0.5), 3),
      clientP99Ms: round(quantile(r.client, 0.99), 3),
      clientCalls: r.client.length,
      fioReadP50Ms: r.fio.readP50Ms, fioReadP99Ms: r.fio.readP99Ms, fioWriteP50Ms: r.fio.writeP50Ms, fioWriteP99Ms: r.fio.writeP99Ms,
      fioCalls: r.fio.reads + r.fio.writes,
      fioExit: r.fio.exitCode, fioError: r.fio.error, fioStderr: r.fio.stderr,
      alphaErrors: r.alphaErrors, betaErrors: r.betaErrors, faults: r.faults,
    }));
    const fioP99 = (r: (typeof perMinute)[number]) => Math.max(r.fioReadP99Ms, r.fioWriteP99Ms);
    const results = {
      benchmark: "soak",
      when: new Date().toISOString(),
      machine: { cpus: navigator.hardwareConcurrency },
      settings: { minutes, baselineMinutes: 1, faultEveryMs: FAULT_EVERY_MS, cacheBytes: CACHE_BYTES, rssBoundBytes: rssBoundBytes(CACHE_BYTES), alphaClientOpsPerSecond: 500, alphaFioIopsEach: 250, betaLoopsOpsPerSecond: 200, slow: SLOW, targets: TARGETS },
      perMinute,
      memory,
      alpha: {
        clientErrors: alphaTotals.errors, clientVerifyFailures: alphaTotals.verifyFailures, errorSamples: alphaTotals.errorSamples, verifySamples: alphaTotals.verifySamples,
        fioFailedMinutes: rows.filter((r) => r.fio.exitCode !== 0 || r.fio.error !== 0).length,
        clientP99BaselineMs: round(quantile(baselineClient, 0.99), 3),
        clientP99FaultedMs: round(quantile(faultedClient, 0.99), 3),
        clientP99Ratio: round(quantile(faultedClient, 0.99) / quantile(baselineClient, 0.99)),
        fioP99BaselineMs: fioP99(perMinute[0]!),
        fioP99WorstFaultedMinuteMs: Math.max(...perMinute.slice(1).map(fioP99)),
        fioP99Ratio: round(Math.max(...perMinute.slice(1).map(fioP99)) / fioP99(perMinute[0]!)),
      },
      beta: { clientErrors: betaClient.totals().errors, kernelErrors: betaKernel.totals().errors, verifyFailures: betaClient.totals().verifyFailures + betaKernel.totals().verifyFailures, startTenantAgain: betaStartTenant },
      restarts,
      faults,
    };

    printTable(["minute", "faults", "client p50/p99 ms", "fio read p50/p99 ms", "fio write p50/p99 ms", "fio", "alpha errors", "beta errors"], perMinute.map((r) => [
      r.faulted ? String(r.minute) : "0 (baseline)", r.faults.join(", ") || "-", `${r.clientP50Ms} / ${r.clientP99Ms}`,
      `${r.fioReadP50Ms} / ${r.fioReadP99Ms}`, `${r.fioWriteP50Ms} / ${r.fioWriteP99Ms}`, r.fioExit === 0 && r.fioError === 0 ? "ok" : `exit ${r.fioExit} error ${r.fioError}`, r.alphaErrors, r.betaErrors,
    ]));
    process.stdout.write("\n");
    printTable(["tenant", "process", "RSS start MiB", "after warm-up", "max after", "end", "slope MB/min", "lives"], memory.map((m) => [
      m.tenant, m.process, m.atStartMiB, m.afterWarmUpMiB, m.maxAfterWarmUpMiB, m.endMiB, m.slopeMbPerMin, m.processLives,
    ]));
    process.stdout.write(`\nalpha: client errors ${results.alpha.clientErrors}, verify failures ${results.alpha.clientVerifyFailures}, fio minutes failed ${results.alpha.fioFailedMinutes}; ` +
      `client p99 ${results.alpha.clientP99FaultedMs} ms vs ${results.alpha.clientP99BaselineMs} fault-free (${results.alpha.clientP99Ratio}x); fio worst-minute p99 ${results.alpha.fioP99WorstFaultedMinuteMs} vs ${results.alpha.fioP99BaselineMs} (${results.alpha.fioP99Ratio}x)\n` +
      `restarts: ${JSON.stringify(restarts)}; beta started again ${betaStartTenant}x; faults ${faults.length} (${faults.filter((f) => !f.ok).length} refused)\n`);
    const dir = join(import.meta.dir, "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "soak.json"), JSON.stringify(results, null, 2) + "\n");
  } finally {
    await killChildren();
    await h.stop();
    for (const mount of [ALPHA, BETA]) if (isMountPoint(mount)) Bun.spawnSync(["umount", "-l", mount]);
    rmSync(base, { recursive: true, force: true });
  }
}
