/** @module read-toml.test — reading TOML, and placing Bun.TOML's syntax errors at a line and column. */
import { describe, expect, test } from "bun:test";
import { locateTomlError, readToml } from "../../../kernel/config/read-toml.ts";
import { expectIssue, issuesOf, useTempDir } from "./fixture.ts";

const tmp = useTempDir();

describe("readToml", () => {
  test("returns the top-level table", () => {
    expect(readToml(tmp.write("a.toml", 'a = 1\n[b]\nc = "x"\n'))).toEqual({ a: 1, b: { c: "x" } });
  });

  test("a directory is not a file", () => {
    tmp.write("d/x", "");
    expectIssue(issuesOf(() => readToml(`${tmp.dir()}/d`)), "d", "", "a directory");
  });
});

describe("locateTomlError", () => {
  const cases: [string, string, number, number][] = [
    ["unquoted size", 'x = 1\nmemory = 1GiB\n', 2, 11],
    ["redefined key", "a = 1\nb = [1,\n2]\na = 2\n", 4, 1],
    ["missing value", "x = 1\n  [[m]]\n  source = \n", 3, 10],
    ["junk after a value", 'a = "x" b\n', 1, 9],
    ["unterminated string", "a = 1\nb = 'x\n", 2, 5],
    ["unclosed table header at end of line", "[mounts\n", 1, 8],
    ["error after a multi-line array", "a = [1,\n2]\nb = }\n", 3, 5],
  ];
  for (const [what, source, line, column] of cases) {
    test(what, () => {
      expect(locateTomlError(source)).toEqual({ line, column });
    });
  }

  test("valid TOML has no error position", () => {
    expect(locateTomlError("a = 1\n")).toEqual({ line: 1, column: 1 });
  });
});
