/** The stress runner's noise: once stopped, nothing of it runs on (its I/O load included, whose job fio would fork). */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { startNoise } from "../../../scripts/stress/load.ts";
import { waitFor } from "../../integration/harness.ts";

const fio = Bun.which("fio") !== null;
if (!fio) {
  if (process.env.CI === "true") throw new Error("load.test.ts needs fio, and CI installs it");
  process.stderr.write("SKIP load.test.ts: fio is not installed\n");
}

/** Pids of running processes whose command line names `text` (zombies have none). */
function processesNaming(text: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "latin1").includes(text)) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Bytes process `pid` has read through read calls (`rchar` of /proc/<pid>/io), 0 when it is gone. */
function readChars(pid: number): number {
  try {
    return Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "latin1"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

test.skipIf(!fio)("stopping the noise stops every process it started, fio's I/O job included", async () => {
  const noise = startNoise();
  try {
    // Wait until the job is in its random I/O (it reads; laying its file out only writes), wherever fio runs it.
    await waitFor("fio's job reading", () => processesNaming(noise.scratch).reduce((sum, pid) => sum + readChars(pid), 0) > 1024 * 1024, 60_000);
    expect(processesNaming(noise.scratch).length).toBeGreaterThan(0);
  } finally {
    await noise.stop();
  }
  expect(processesNaming(noise.scratch)).toEqual([]);
});
