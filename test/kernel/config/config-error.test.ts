/** @module config-error.test — issue messages and value rendering. */
import { describe, expect, test } from "bun:test";
import { ConfigError, configIssue, renderValue } from "../../../kernel/config/config-error.ts";

describe("configIssue", () => {
  test("one line: file, path, expected, found", () => {
    expect(configIssue("/t/a.toml", "cache.size", "a size", '"x"').message).toBe('/t/a.toml: cache.size: expected a size, found "x"');
  });

  test("whole-file issues have no path; syntax errors carry line:column", () => {
    expect(configIssue("a.toml", "", "a readable TOML file", "no such file").message).toBe("a.toml: expected a readable TOML file, found no such file");
    const issue = configIssue("a.toml", "", "valid TOML", "x", { line: 3, column: 7 });
    expect(issue.message).toBe("a.toml:3:7: expected valid TOML, found x");
    expect([issue.line, issue.column]).toEqual([3, 7]);
  });
});

describe("ConfigError", () => {
  test("is an Error listing its issues one per line", () => {
    const issues = [configIssue("a.toml", "x", "1", "2"), configIssue("b.toml", "y", "3", "4")];
    const error = new ConfigError(issues);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("ConfigError");
    expect(error.issues).toBe(issues);
    expect(error.message).toBe("a.toml: x: expected 1, found 2\nb.toml: y: expected 3, found 4");
  });
});

describe("renderValue", () => {
  test("renders TOML values readably", () => {
    expect(renderValue("a")).toBe('"a"');
    expect(renderValue(1.5)).toBe("1.5");
    expect(renderValue(undefined)).toBe("nothing");
    expect(renderValue([1, ["x"]])).toBe('[1, ["x"]]');
    expect(renderValue({ path: "/a", legacy: true })).toBe('{ path = "/a", legacy = true }');
    expect(renderValue("y".repeat(200))).toHaveLength(80);
  });
});
