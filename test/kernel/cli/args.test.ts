/** Tests of the CLI argument parser. */
import { describe, expect, test } from "bun:test";
import { intFlag, parseArgs, requiredFlag, UsageError } from "../../../kernel/cli/args.ts";

describe("parseArgs", () => {
  test("command, positionals, --flag value, --flag=value and switches", () => {
    const args = parseArgs(["fault", "kill", "--tenant", "beta", "--service=union", "--json"]);
    expect(args.command).toBe("fault");
    expect(args.positionals).toEqual(["kill"]);
    expect(args.flags.get("tenant")).toBe("beta");
    expect(args.flags.get("service")).toBe("union");
    expect(args.flags.get("json")).toBe(true);
  });
  test("a flag without its value is a usage error", () => {
    expect(() => parseArgs(["fault", "--tenant"])).toThrow(UsageError);
  });
  test("intFlag accepts whole numbers only", () => {
    expect(intFlag(parseArgs(["x", "--times", "4"]), "times")).toBe(4);
    expect(intFlag(parseArgs(["x"]), "times")).toBeUndefined();
    expect(() => intFlag(parseArgs(["x", "--times", "4x"]), "times")).toThrow("--times expects a whole number");
  });
  test("words after a lone -- are the command, never flags (danaus run)", () => {
    const args = parseArgs(["run", "--tenant", "alpha", "--", "ls", "--config", "x", "--", "-l"]);
    expect(args.command).toBe("run");
    expect(args.flags.get("tenant")).toBe("alpha");
    expect(args.flags.has("config")).toBe(false);
    expect(args.rest).toEqual(["ls", "--config", "x", "--", "-l"]);
    expect(parseArgs(["status"]).rest).toEqual([]);
  });
  test("requiredFlag names the missing flag", () => {
    expect(() => requiredFlag(parseArgs(["fault"]), "service")).toThrow("--service is required");
  });
});
