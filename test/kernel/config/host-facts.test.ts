/** @module host-facts.test — the host's cores and memory. */
import { describe, expect, test } from "bun:test";
import { totalmem } from "node:os";
import { hostFacts, parseCpuList } from "../../../kernel/config/index.ts";

describe("hostFacts", () => {
  test("reports sorted, distinct cores and the total memory", () => {
    const facts = hostFacts();
    expect(facts.cpus.length).toBeGreaterThan(0);
    expect(facts.cpus).toEqual([...new Set(facts.cpus)].sort((a, b) => a - b));
    expect(facts.memoryBytes).toBe(totalmem());
  });
});

describe("parseCpuList", () => {
  test("ranges and single cores", () => {
    expect(parseCpuList("0-3,8,10-11\n")).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList("5")).toEqual([5]);
  });

  test("not a cpu list", () => {
    expect(parseCpuList("")).toBeNull();
    expect(parseCpuList("3-1")).toBeNull();
    expect(parseCpuList("a,b")).toBeNull();
  });
});
