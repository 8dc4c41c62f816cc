/** Tests of the structured logger. */
import { expect, test } from "bun:test";
import { Logger } from "../../../kernel/log/index.ts";

test("one JSON object per line with level, msg, bound and call fields; below-level lines dropped", () => {
  const lines: string[] = [];
  const log = new Logger({ pid: 7 }, "info", (line) => lines.push(line)).child({ tenant: "alpha", service: "union" });
  log.debug("hidden");
  log.warn("slow", { ms: 12, error: new Error("boom") });
  expect(lines.length).toBe(1);
  const record = JSON.parse(lines[0]!);
  expect(record).toMatchObject({ level: "warn", msg: "slow", pid: 7, tenant: "alpha", service: "union", ms: 12, error: { name: "Error", message: "boom" } });
  expect(typeof record.ts).toBe("string");
});
