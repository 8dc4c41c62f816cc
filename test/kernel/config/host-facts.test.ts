/** @module host-facts.test — the host's cores and memory. */
import { describe, expect, test } from "bun:test";
import { totalmem } from "node:os";
import { hostFacts } from "../../../kernel/config/index.ts";

describe("hostFacts", () => {
  test("reports sorted, distinct cores and the total memory", () => {
    const facts = hostFacts();
    expect(facts.cpus.length).toBeGreaterThan(0);
    expect(facts.cpus).toEqual([...new Set(facts.cpus)].sort((a, b) => a - b));
    expect(facts.memoryBytes).toBe(totalmem());
  });
});
