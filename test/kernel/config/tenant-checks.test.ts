/** @module tenant-checks.test — the cross-field checks on a resolved tenant and on host [defaults]. */
import { describe, expect, test } from "bun:test";
import { resolveTenant, type TenantConfig } from "../../../kernel/config/index.ts";
import { defaultsIssues, showSize, tenantIssues } from "../../../kernel/config/tenant-checks.ts";
import { hostAt } from "./fixture.ts";

const valid = (): TenantConfig => resolveTenant({ name: "alpha", cpus: [0], backend: { kind: "local", root: "a" } }, "/d/t/alpha.toml", hostAt("/d"), {});

describe("tenantIssues", () => {
  test("none for a consistent tenant", () => {
    expect(tenantIssues(valid())).toEqual([]);
  });

  test("every check at once, with origin notes", () => {
    const t = valid();
    t.name = "beta";
    t.cache.sizeBytes = 2 * 1024 ** 3;
    t.cache.maxDirtyBytes = 3 * 1024 ** 3;
    t.cache.blockSizeBytes = 3 * 4096;
    t.restart.backoffBaseMs = 10_000;
    t.topology = [["client-cache"]];
    t.mounts.push({ path: "/mnt/danaus/alpha", kind: "direct", source: "x", legacy: true });
    const issues = tenantIssues(t, (path) => ` <${path}>`);
    expect(issues.map((i) => i.path)).toEqual(["name", "cache.size", "cache.maxDirty", "cache.blockSize", "mounts[1].path", "restart.backoffBaseMs", "topology", "topology"]);
    expect(issues[1]!.found).toBe("2GiB <cache.size>");
    expect(issues[1]!.expected).toBe("at most memory (1GiB <memory>)");
  });
});

describe("topologies the data path cannot be assembled from", () => {
  test("union apart from a process running both ipc-router and client-cache is refused, naming the field", () => {
    const t = valid();
    t.topology = [["ipc-router", "client-cache"], ["union"]];
    const issues = tenantIssues(t);
    expect(issues.map((i) => i.path)).toEqual(["topology"]);
    expect(issues[0]!.expected).toContain('"union" in the process group of "ipc-router" and "client-cache"');
  });

  test("every split the stack is built for passes", () => {
    for (const topology of [
      [["ipc-router"], ["union"], ["client-cache"]],
      [["ipc-router"], ["union", "client-cache"]],
      [["ipc-router", "union"], ["client-cache"]],
      [["client-cache", "union", "ipc-router"], ["fuse-legacy"]],
    ] as const) {
      const t = valid();
      t.topology = topology.map((g) => [...g]);
      expect(tenantIssues(t)).toEqual([]);
    }
  });
});

describe("defaultsIssues", () => {
  test("checks only pairs the defaults set", () => {
    expect(defaultsIssues({ cache: { maxDirty: 10 * 1024 ** 3 } }, "h.toml")).toEqual([]);
    expect(defaultsIssues({ cache: { size: 1024, maxDirty: 2048 } }, "h.toml").map((i) => i.path)).toEqual(["defaults.cache.maxDirty"]);
  });
});

describe("showSize", () => {
  test("whole units or bytes", () => {
    expect(showSize(64 * 1024)).toBe("64KiB");
    expect(showSize(5000)).toBe("5000 bytes");
  });
});
