/** @module built-in-defaults.test — the built-in defaults. */
import { describe, expect, test } from "bun:test";
import { BUILT_IN, defaultMounts, defaultTopology, REQUIRED_SERVICES } from "../../../kernel/config/built-in-defaults.ts";
import { SERVICE_NAMES } from "../../../kernel/config/schema.ts";

describe("built-in defaults", () => {
  test("client-cache, union and ipc-router share a process; fuse-legacy has its own", () => {
    expect(defaultTopology()).toEqual([["client-cache", "union", "ipc-router"], ["fuse-legacy"]]);
    expect(defaultTopology().flat().sort()).toEqual([...SERVICE_NAMES].sort());
    expect(defaultTopology()).not.toBe(defaultTopology());
  });

  test("every service but fuse-legacy is required", () => {
    expect(REQUIRED_SERVICES).toEqual(["client-cache", "union", "ipc-router"]);
  });

  test("the default mount and the paper's cache shares", () => {
    expect(defaultMounts("alpha")).toEqual([{ path: "/mnt/danaus/alpha", kind: "direct", source: "", legacy: false }]);
    expect([BUILT_IN.cacheShareOfMemory, BUILT_IN.dirtyShareOfCache, BUILT_IN.writebackMs, BUILT_IN.expireMs]).toEqual([0.5, 0.5, 1000, 5000]);
  });
});
