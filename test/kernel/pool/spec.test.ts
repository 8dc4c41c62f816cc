/** @module test/kernel/pool/spec — which pool specs and names are accepted before any cgroup is touched. */
import { describe, expect, test } from "bun:test";
import { PoolError } from "../../../kernel/pool/index.ts";
import { checkPoolSpec, isValidGroupName } from "../../../kernel/pool/spec.ts";

describe("checkPoolSpec", () => {
  test("returns a frozen copy of a valid spec", () => {
    const cpus = [0, 1];
    const checked = checkPoolSpec({ tenant: "acme.corp_1", cpus, memoryBytes: 1 << 20 }, "/x");
    cpus.push(7);
    expect(checked).toEqual({ tenant: "acme.corp_1", cpus: [0, 1], memoryBytes: 1 << 20 });
    expect(Object.isFrozen(checked)).toBe(true);
  });

  test.each([
    ["an empty tenant", { tenant: "", cpus: [0], memoryBytes: 1 }],
    ["a tenant with a slash", { tenant: "a/b", cpus: [0], memoryBytes: 1 }],
    ["a tenant of ..", { tenant: "..", cpus: [0], memoryBytes: 1 }],
    ["a tenant with a quote", { tenant: "it's", cpus: [0], memoryBytes: 1 }],
    ["no cpus", { tenant: "t", cpus: [], memoryBytes: 1 }],
    ["a negative cpu", { tenant: "t", cpus: [-1], memoryBytes: 1 }],
    ["a fractional cpu", { tenant: "t", cpus: [0.5], memoryBytes: 1 }],
    ["zero memory", { tenant: "t", cpus: [0], memoryBytes: 0 }],
    ["fractional memory", { tenant: "t", cpus: [0], memoryBytes: 1.5 }],
  ])("rejects %s with a PoolError naming the tenant and path", (_, spec) => {
    let caught: unknown;
    try {
      checkPoolSpec(spec, "/sys/fs/cgroup/cpuset/danaus.x/t");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PoolError);
    expect((caught as PoolError).tenant).toBe(spec.tenant);
    expect((caught as PoolError).path).toBe("/sys/fs/cgroup/cpuset/danaus.x/t");
  });
});

describe("isValidGroupName", () => {
  test("accepts plain names and refuses path-like or hidden ones", () => {
    expect(isValidGroupName("test-123-4")).toBe(true);
    expect(isValidGroupName(".hidden")).toBe(false);
    expect(isValidGroupName("a b")).toBe(false);
    expect(isValidGroupName("x".repeat(201))).toBe(false);
  });
});
