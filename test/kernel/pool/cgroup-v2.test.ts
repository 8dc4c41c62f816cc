/**
 * @module test/kernel/pool/cgroup-v2 — what the v2 flavour writes, checked on an ordinary directory tree laid out like a
 * unified hierarchy (this host has controllers only in v1, so real v2 pools cannot be made here).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CgroupV2 } from "../../../kernel/pool/cgroup-v2.ts";
import { PoolError } from "../../../kernel/pool/index.ts";

let root = "";

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "danaus-v2-"));
  writeFileSync(join(root, "cgroup.subtree_control"), "cpu memory\n");
  // What the kernel would put into danaus.<instance> once cpuset and memory are enabled above it.
  mkdirSync(join(root, "danaus.i"));
  writeFileSync(join(root, "danaus.i", "cgroup.subtree_control"), "\n");
  writeFileSync(join(root, "danaus.i", "cpuset.cpus.effective"), "0-3\n");
  writeFileSync(join(root, "danaus.i", "cpuset.mems.effective"), "0\n");
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const read = (...path: string[]): string => readFileSync(join(root, ...path), "utf8");

describe("CgroupV2", () => {
  test("enables only the missing controllers in each parent's cgroup.subtree_control", () => {
    new CgroupV2("i", root).prepareInstance("t");
    expect(read("cgroup.subtree_control")).toBe("+cpuset");
    expect(read("danaus.i", "cgroup.subtree_control")).toBe("+cpuset +memory");
  });

  test("writes cpus, the parent's mems, memory.max and memory.swap.max=0 (when present) into the tenant group", () => {
    const tenantDir = join(root, "danaus.i", "t");
    mkdirSync(tenantDir);
    writeFileSync(join(tenantDir, "memory.swap.max"), "max\n");
    new CgroupV2("i", root).configureTenant({ tenant: "t", cpus: [3, 1, 2], memoryBytes: 268435456 }, [tenantDir]);
    expect(read("danaus.i", "t", "cpuset.cpus")).toBe("1-3");
    expect(read("danaus.i", "t", "cpuset.mems")).toBe("0");
    expect(read("danaus.i", "t", "memory.max")).toBe("268435456");
    expect(read("danaus.i", "t", "memory.swap.max")).toBe("0");
  });

  test("refuses cpus outside the parent's effective cpus before writing anything", () => {
    const tenantDir = join(root, "danaus.i", "t");
    mkdirSync(tenantDir);
    const configure = () => new CgroupV2("i", root).configureTenant({ tenant: "t", cpus: [4], memoryBytes: 1 }, [tenantDir]);
    expect(configure).toThrow(PoolError);
    expect(configure).toThrow("cpus 4");
  });

  test("reads oom_kill from memory.events and usage from memory.current", () => {
    const tenantDir = join(root, "danaus.i", "t");
    mkdirSync(tenantDir);
    const flavour = new CgroupV2("i", root);
    expect(flavour.oomKills([tenantDir])).toBeNull();
    expect(flavour.memoryUsage([tenantDir])).toBeNull();
    writeFileSync(join(tenantDir, "memory.events"), "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n");
    writeFileSync(join(tenantDir, "memory.current"), "1048576\n");
    expect(flavour.oomKills([tenantDir])).toBe(2);
    expect(flavour.memoryUsage([tenantDir])).toBe(1048576);
  });
});
