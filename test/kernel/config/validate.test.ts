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

  test("maxDirStreams is a whole number from 1 to 65536", () => {
    const tenant = (maxDirStreams: unknown) => ({ name: "alpha", cpus: [0], backend: { kind: "local", root: "r" }, maxDirStreams });
    expect(validate(TenantFileSchema, tenant(64), "a.toml").maxDirStreams).toBe(64);
    for (const bad of [0, 1.5, 65537, "many"]) {
      expect(expectIssue(issuesOf(() => validate(TenantFileSchema, tenant(bad), "a.toml")), "a.toml", "maxDirStreams", JSON.stringify(bad)).expected).toBe("a stream count from 1 to 65536");
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
