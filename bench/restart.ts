/** @module restart — fault containment at the supervisor level: how fast a killed or hung service is back, and whether
 * another tenant's control round trip notices a neighbour that is killed again and again. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Harness, waitFor } from "../test/integration/harness.ts";
import { printTable, summary } from "./stats.ts";

const KILLS = 15;
const HANGS = 3;
const PHASE_MS = 3000;

/** Pings `tenant`'s union every 5 ms for PHASE_MS; returns the round trips the supervisor measured. */
async function pingLatencies(h: Harness, tenant: string): Promise<number[]> {
  const rtts: number[] = [];
  const end = performance.now() + PHASE_MS;
  while (performance.now() < end) {
    rtts.push(((await h.ok({ cmd: "ping", tenant, service: "union" })) as { rttMs: number }).rttMs);
    await Bun.sleep(5);
  }
  return rtts;
}

async function timeToRecover(h: Harness, fault: "kill" | "hang"): Promise<number> {
  const before = (await h.pids("beta")).union;
  const started = performance.now();
  await h.ok({ cmd: "fault", kind: fault, tenant: "beta", service: "union" });
  await waitFor("beta union back", async () => {
    const union = (await h.tenant("beta")).services.find((s) => s.name === "union")!;
    return union.state === "running" && union.pid !== before;
  }, 30_000);
  return performance.now() - started;
}

/** Runs the benchmark and writes bench/results/restart.json. */
export async function run(): Promise<void> {
  const h = new Harness({
    heartbeatMs: 100,
    hungAfterMs: 500,
    restart: "intensity = 1000\nperiodMs = 60000\nbackoffBaseMs = 0\nbackoffCapMs = 0\nshutdownMs = 1000",
  });
  try {
    await h.start();
    const quiet = await pingLatencies(h, "alpha");

    // Alpha's round trips while beta's union is SIGKILLed every 100 ms.
    let storming = true;
    let stormKills = 0;
    const storm = (async () => {
      while (storming) {
        const reply = await h.ctl({ cmd: "fault", kind: "kill", tenant: "beta", service: "union" });
        if (reply.ok) stormKills++;
        await Bun.sleep(100);
      }
    })();
    const noisy = await pingLatencies(h, "alpha");
    storming = false;
    await storm;
    await waitFor("beta settled", async () => (await h.tenant("beta")).services.every((s) => s.state === "running"), 30_000);

    const kills: number[] = [];
    for (let i = 0; i < KILLS; i++) kills.push(await timeToRecover(h, "kill"));
    const hangs: number[] = [];
    for (let i = 0; i < HANGS; i++) hangs.push(await timeToRecover(h, "hang"));
    const alphaRestarts = (await h.tenant("alpha")).services.reduce((n, s) => n + s.restarts, 0);

    const results = {
      benchmark: "restart",
      when: new Date().toISOString(),
      machine: { cpus: navigator.hardwareConcurrency },
      settings: { heartbeatMs: 100, hungAfterMs: 500, backoffMs: 0 },
      alphaPingQuietMs: summary(quiet),
      alphaPingDuringBetaKillStormMs: summary(noisy),
      betaKillsDuringStorm: stormKills,
      killToRunningMs: summary(kills),
      hangToRunningMs: summary(hangs),
      alphaRestarts,
    };
    printTable(["measure", "median ms", "p99 ms", "n"], [
      ["alpha ping, beta quiet", results.alphaPingQuietMs.median, results.alphaPingQuietMs.p99, quiet.length],
      [`alpha ping, beta killed ${stormKills}x`, results.alphaPingDuringBetaKillStormMs.median, results.alphaPingDuringBetaKillStormMs.p99, noisy.length],
      ["beta kill -> running again", results.killToRunningMs.median, results.killToRunningMs.p99, KILLS],
      ["beta hang -> running again", results.hangToRunningMs.median, results.hangToRunningMs.p99, HANGS],
    ]);
    process.stdout.write(`alpha restarts during the run: ${alphaRestarts}; ping ratio storm/quiet (median): ${(results.alphaPingDuringBetaKillStormMs.median / results.alphaPingQuietMs.median).toFixed(2)}\n`);
    const dir = join(import.meta.dir, "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "restart.json"), JSON.stringify(results, null, 2) + "\n");
  } finally {
    await h.stop();
  }
}
