/** Tests of poolProcsFiles: where a process joins a running tenant's pool, per cgroup flavour. */
import { describe, expect, test } from "bun:test";
import { poolProcsFiles } from "../../../kernel/pool/index.ts";

describe("poolProcsFiles", () => {
  test("cgroup v1: the cpuset group, then the memory group, of danaus.<instance>/<tenant>", () => {
    const files = poolProcsFiles({ kind: "cgroup-v1", cpusetRoot: "/sys/fs/cgroup/cpuset", memoryRoot: "/sys/fs/cgroup/memory" }, "demo", "alpha");
    expect(files).toEqual(["/sys/fs/cgroup/cpuset/danaus.demo/alpha/cgroup.procs", "/sys/fs/cgroup/memory/danaus.demo/alpha/cgroup.procs"]);
  });
  test("cgroup v2: the one group", () => {
    expect(poolProcsFiles({ kind: "cgroup-v2", root: "/sys/fs/cgroup" }, "demo", "beta")).toEqual(["/sys/fs/cgroup/danaus.demo/beta/cgroup.procs"]);
  });
  test("no pools: nothing to join", () => {
    expect(poolProcsFiles({ kind: "unavailable", reason: "not root" }, "demo", "alpha")).toEqual([]);
  });
});
