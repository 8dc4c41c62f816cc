/** @module validate.test — valibot issues as ConfigIssues: paths, expectations, unknown fields inside variants. */
import { describe, expect, test } from "bun:test";
import { TenantFileSchema } from "../../../kernel/config/schema.ts";
import { validate } from "../../../kernel/config/validate.ts";
import { expectIssue, issuesOf } from "./fixture.ts";

const ceph = (backend: Record<string, unknown>) => ({ name: "alpha", cpus: [0], backend: { kind: "cephfs", conf: "ceph.conf", ...backend } });

describe("validate", () => {
  test("returns the parsed output with schema defaults", () => {
    expect(validate(TenantFileSchema, ceph({}), "a.toml").backend).toEqual({ kind: "cephfs", conf: "ceph.conf", fs: "cephfs", root: "/", clientId: "admin" });
  });

  test("unknown fields are looked up in the variant the table selects", () => {
    const issue = expectIssue(issuesOf(() => validate(TenantFileSchema, ceph({ keyrng: "k" }), "a.toml")), "a.toml", "backend.keyrng", "unknown field");
    expect(issue.expected).toContain("clientId");
    expect(issue.found).toContain('did you mean "keyring"');
  });

  test("array indices and nested keys make the path", () => {
    const input = { name: "alpha", cpus: [0], backend: { kind: "local", root: "r" }, mounts: [{ path: "/a", source: "" }, { path: "/b", source: 3 }] };
    const issue = expectIssue(issuesOf(() => validate(TenantFileSchema, input, "a.toml")), "a.toml", "mounts[1].source", "3");
    expect(issue.expected).toBe("a path inside the backend root");
  });

  test.each([
    ["maxDirStreams", 64, [0, 1.5, 65537, "many"], "a stream count from 1 to 65536"],
    ["heldRequestMs", 250, [99, 1.5, 600_001, "long"], "milliseconds from 100 to 600000"],
    ["fuse.maxNodes", 4096, [1000, 512, 8_388_608, "many"], "a power of two from 1024 to 4194304"],
  ] as const)("%s is a whole number in its range", (field, good, bads, expected) => {
    // A dotted field is a key of a table ("fuse.maxNodes" is maxNodes in [fuse]).
    const [table, key] = field.includes(".") ? field.split(".") as [string, string] : [undefined, field];
    const tenant = (value: unknown) => ({ name: "alpha", cpus: [0], backend: { kind: "local", root: "r" }, ...(table ? { [table]: { [key]: value } } : { [key]: value }) });
    const parsed = validate(TenantFileSchema, tenant(good), "a.toml") as Record<string, unknown>;
    expect(table ? (parsed[table] as Record<string, unknown>)[key] : parsed[key]).toBe(good);
    for (const bad of bads) {
      expect(expectIssue(issuesOf(() => validate(TenantFileSchema, tenant(bad), "a.toml")), "a.toml", field, JSON.stringify(bad)).expected).toBe(expected);
    }
  });

  test("one issue per field even when several checks of its pipe fail", () => {
    const issues = issuesOf(() => validate(TenantFileSchema, { name: "alpha", cpus: [0], backend: { kind: "local", root: "r" }, restart: { periodMs: 0.5 } }, "a.toml"));
    expect(issues).toHaveLength(1);
  });

  test("a non-table where a table belongs", () => {
    expectIssue(issuesOf(() => validate(TenantFileSchema, { name: "alpha", cpus: [0], backend: "local" }, "a.toml")), "a.toml", "backend", '"local"');
  });
});
