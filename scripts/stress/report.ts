/**
 * @module report — reads a `bun test` run's output: the tests that failed, by file, and the replay settings (such as
 * `FUZZ_SEED=123`) that the file's tests printed, so a failure under load can be replayed.
 */

/** One failed test of one round. */
export interface Failure {
  readonly round: number;
  readonly file: string;
  readonly test: string;
  /** `NAME=value` settings the file printed after "replay with". */
  readonly replay: string[];
}

/** The pass/fail/skip counts of a run and its failures. */
export interface RoundResult {
  readonly round: number;
  readonly exitCode: number;
  readonly pass: number;
  readonly fail: number;
  readonly skip: number;
  readonly failures: Failure[];
  readonly seconds: number;
}

const FILE_HEADER = /^(test\/\S+\.test\.ts):$/;
const FAILED = /^\(fail\) (.*?)(?: \[[\d.]+m?s\])?$/;
const REPLAY = /replay with ((?:[A-Z_]+=[^\s)]+\s*)+)/;
const COUNT = /^\s*(\d+) (pass|fail|skip)$/;

/** Parses the combined stdout and stderr of one `bun test` run (round `round`). */
export function parseRun(round: number, output: string, exitCode: number, seconds: number): RoundResult {
  let file = "(unknown file)";
  const replayByFile = new Map<string, string[]>();
  const failed: { file: string; test: string }[] = [];
  const counts = { pass: 0, fail: 0, skip: 0 };
  for (const line of output.split("\n")) {
    const header = FILE_HEADER.exec(line);
    if (header) {
      file = header[1]!;
      continue;
    }
    const failure = FAILED.exec(line);
    // The summary at the end repeats every failure; keep the first sighting (under its file).
    if (failure && !failed.some((f) => f.test === failure[1])) failed.push({ file, test: failure[1]! });
    const replay = REPLAY.exec(line);
    if (replay) replayByFile.set(file, [...(replayByFile.get(file) ?? []), ...replay[1]!.trim().split(/\s+/)]);
    const count = COUNT.exec(line);
    if (count) counts[count[2] as keyof typeof counts] = Number(count[1]);
  }
  const failures = failed.map((f) => ({ round, ...f, replay: [...new Set(replayByFile.get(f.file) ?? [])] }));
  return { round, exitCode, ...counts, failures, seconds };
}
