/** @module test/kernel/pool/placement — the wrap() shell prelude, run against ordinary files standing in for cgroup.procs. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PLACEMENT_FAILED_EXIT } from "../../../kernel/pool/index.ts";
import { buildPlacementArgv, shellQuote } from "../../../kernel/pool/placement.ts";

let scratch = "";

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), "danaus-placement-"));
});

afterEach(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** Run `argv` to completion and collect what it printed. */
async function run(argv: string[]): Promise<{ pid: number; exitCode: number | null; stdout: string; stderr: string }> {
  const child = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
  await child.exited;
  return { pid: child.pid, exitCode: child.exitCode, stdout, stderr };
}

describe("shellQuote", () => {
  test("survives a round trip through sh for awkward text", async () => {
    for (const text of ["plain", "it's", "a b", `"$HOME" \`id\` \\ *`, "", "''"]) {
      const result = await run(["/bin/sh", "-c", `printf %s ${shellQuote(text)}`]);
      expect(result.stdout).toBe(text);
    }
  });
});

describe("buildPlacementArgv", () => {
  test("has the documented shape: sh -c script, $0 danaus-pool, then the command unchanged", () => {
    const argv = buildPlacementArgv(["/a/cgroup.procs"], ["/bin/true", "x y"]);
    expect(argv.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(argv.slice(3)).toEqual(["danaus-pool", "/bin/true", "x y"]);
  });

  test("writes the process's own pid into every procs file, even under a path with quotes and spaces", async () => {
    const dir = join(scratch, `it's a "dir" $HOME \\ x`);
    mkdirSync(dir);
    const procs = [join(dir, "cpuset procs"), join(dir, "memory'procs")];
    for (const file of procs) writeFileSync(file, "");
    const args = ["arg with 'quote'", "$HOME", "*", ""];
    const result = await run(buildPlacementArgv(procs, ["/bin/sh", "-c", 'echo $$; printf "<%s>\\n" "$@"', "cmd", ...args]));
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`${result.pid}\n${args.map((arg) => `<${arg}>\n`).join("")}`);
    for (const file of procs) expect(readFileSync(file, "utf8")).toBe(`${result.pid}\n`);
  });

  test("with no procs files it just execs the command", async () => {
    const result = await run(buildPlacementArgv([], ["/bin/sh", "-c", "echo ran"]));
    expect(result).toMatchObject({ exitCode: 0, stdout: "ran\n" });
  });

  test("refuses an empty command", () => {
    expect(() => buildPlacementArgv(["/x"], [])).toThrow(RangeError);
  });

  describe("when a procs file cannot be written", () => {
    const cases: [string, () => string[]][] = [
      ["its directory does not exist", () => [join(scratch, "missing", "cgroup.procs")]],
      ["the write itself fails (/dev/full: ENOSPC)", () => [join(scratch, "first"), "/dev/full"]],
      ["it is a directory", () => [scratch]],
    ];
    for (const [name, procs] of cases) {
      test(`exits ${PLACEMENT_FAILED_EXIT} without running the command: ${name}`, async () => {
        const marker = join(scratch, "command-ran");
        const result = await run(buildPlacementArgv(procs(), ["/bin/sh", "-c", 'touch "$1"', "cmd", marker]));
        expect(result.exitCode).toBe(PLACEMENT_FAILED_EXIT);
        expect(result.stderr).toContain("danaus-pool: could not join the pool's cgroups");
        expect(existsSync(marker)).toBe(false);
      });
    }

    test("stops at the first failing file", async () => {
      const second = join(scratch, "second");
      writeFileSync(second, "");
      const result = await run(buildPlacementArgv([join(scratch, "missing", "procs"), second], ["/bin/true"]));
      expect(result.exitCode).toBe(PLACEMENT_FAILED_EXIT);
      expect(readFileSync(second, "utf8")).toBe("");
    });
  });
});
