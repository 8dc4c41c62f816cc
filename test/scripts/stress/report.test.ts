/** The stress runner's reading of a `bun test` run: failures by file, the seeds their files printed, the counts. */
import { expect, test } from "bun:test";
import { parseRun } from "../../../scripts/stress/report.ts";

const OUTPUT = `bun test v1.4.5 (a7733435c)

test/services/ipc-router/robustness/fuzz.test.ts:
fuzz seed 1191686687 (replay with FUZZ_SEED=1191686687)
(fail) fuzz: 10000 hostile rounds while a good client verifies its I/O (seed 1191686687) [60001.00ms]

test/kernel/config/load-host.test.ts:
(pass) a host config loads [1.00ms]
(fail) a bad field is named [2.50ms]

2 tests failed:
(fail) fuzz: 10000 hostile rounds while a good client verifies its I/O (seed 1191686687) [60001.00ms]
(fail) a bad field is named [2.50ms]

 2235 pass
 17 skip
 2 fail
`;

test("failures are listed once each, under their file, with the replay settings their file printed", () => {
  const result = parseRun(2, OUTPUT, 1, 200);
  expect(result).toMatchObject({ round: 2, exitCode: 1, pass: 2235, skip: 17, fail: 2, seconds: 200 });
  expect(result.failures).toEqual([
    { round: 2, file: "test/services/ipc-router/robustness/fuzz.test.ts", test: "fuzz: 10000 hostile rounds while a good client verifies its I/O (seed 1191686687)", replay: ["FUZZ_SEED=1191686687"] },
    { round: 2, file: "test/kernel/config/load-host.test.ts", test: "a bad field is named", replay: [] },
  ]);
});

test("a clean run has no failures", () => {
  expect(parseRun(1, "test/a.test.ts:\n(pass) x [1ms]\n\n 1 pass\n 0 fail\n", 0, 1).failures).toEqual([]);
});
