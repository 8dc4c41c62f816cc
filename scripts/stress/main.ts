/**
 * @module stress — `bun run test:stress [--rounds N] [-- bun test args]`: runs the whole test suite (scripts/test.sh)
 * N times (default 3), each next to a CPU hog on every core and an I/O load, and reports every test that failed in any
 * round with the replay settings (seeds) its file printed. Writes `.danaus/stress/latest.json`, and each round's whole
 * output to `.danaus/stress/round-<N>.log` (what a failed test printed, its expectations and the services' logs);
 * exits 1 if any failed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startNoise } from "./load.ts";
import { parseRun, type RoundResult } from "./report.ts";

const root = join(import.meta.dir, "..", "..");
const argv = process.argv.slice(2);
const split = argv.indexOf("--");
const own = split < 0 ? argv : argv.slice(0, split);
const passOn = split < 0 ? [] : argv.slice(split + 1);
const roundsAt = own.indexOf("--rounds");
const rounds = roundsAt < 0 ? 3 : Number(own[roundsAt + 1]);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`test:stress: --rounds must be a positive integer, not ${own[roundsAt + 1]}\n`);
  process.exit(2);
}

const out = join(root, ".danaus", "stress");
mkdirSync(out, { recursive: true });
const results: RoundResult[] = [];
for (let round = 1; round <= rounds; round++) {
  const noise = startNoise();
  process.stdout.write(`== round ${round} of ${rounds} (noise pids ${noise.pids.join(", ")})\n`);
  const started = performance.now();
  let output = "";
  let exitCode: number;
  try {
    const run = Bun.spawn(["bash", "scripts/test.sh", ...passOn], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream) output += new TextDecoder().decode(chunk);
    };
    await Promise.all([collect(run.stdout), collect(run.stderr)]);
    exitCode = await run.exited;
  } finally {
    await noise.stop();
  }
  const result = parseRun(round, output, exitCode, Math.round((performance.now() - started) / 1000));
  results.push(result);
  const log = join(out, `round-${round}.log`);
  writeFileSync(log, output);
  process.stdout.write(`round ${round}: ${result.pass} pass, ${result.fail} fail, ${result.skip} skip, exit ${exitCode}, ${result.seconds} s (output in ${log})\n`);
  for (const f of result.failures) process.stdout.write(`  FAILED ${f.file}: ${f.test}${f.replay.length ? ` (replay with ${f.replay.join(" ")})` : ""}\n`);
  if (exitCode !== 0 && result.failures.length === 0) process.stdout.write(`  the run failed outside any test; its last lines:\n${output.split("\n").slice(-15).join("\n")}\n`);
}

const failures = results.flatMap((r) => r.failures);
writeFileSync(join(out, "latest.json"), JSON.stringify({ at: new Date().toISOString(), rounds: results }, null, 2) + "\n");
const failedRounds = results.filter((r) => r.exitCode !== 0).length;
process.stdout.write(`\n${rounds} rounds: ${failures.length} test failures in ${failedRounds} failed rounds (details in .danaus/stress/latest.json)\n`);
process.exit(failedRounds === 0 ? 0 : 1);
