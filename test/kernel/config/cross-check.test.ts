/** @module cross-check.test — admitting tenants together: cores, memory, mount points, names. */
import { describe, expect, test } from "bun:test";
import { crossCheck, resolveTenant, type HostFacts, type TenantConfig, type TenantFile } from "../../../kernel/config/index.ts";
import { expectIssue, hostAt } from "./fixture.ts";

const GiB = 1024 ** 3;
const host = hostAt("/srv/d");
const facts: HostFacts = { cpus: [0, 1, 2, 3], memoryBytes: 8 * GiB };

function tenant(name: string, extra: Partial<TenantFile> = {}, dir = "/srv/d/tenants"): TenantConfig {
  return resolveTenant({ name, cpus: [0], backend: { kind: "local", root: name }, ...extra }, `${dir}/${name}.toml`, host, {});
}

const names = (ts: TenantConfig[]) => ts.map((t) => t.name);

describe("crossCheck", () => {
  test("refuses a backend root equal to or nested in another tenant's on the same store, and names both", () => {
    const ceph = (root: string, conf = "/etc/ceph/ceph.conf") => ({ kind: "cephfs" as const, conf, fs: "cephfs", root, clientId: "admin" });
    const nested = crossCheck([tenant("alpha", { backend: ceph("/tenants") }), tenant("beta", { cpus: [1], backend: ceph("/tenants/beta") })], facts);
    expect(names(nested.accepted)).toEqual(["alpha"]);
    expectIssue(nested.rejected[0]!.issues, "beta.toml", "backend.root", '"/tenants/beta"');
    expect(nested.rejected[0]!.issues[0]!.message).toContain("tenant alpha");
    const local = crossCheck([tenant("alpha", { backend: { kind: "local", root: "x" } }), tenant("beta", { cpus: [1], backend: { kind: "local", root: "x/y" } })], facts);
    expectIssue(local.rejected[0]!.issues, "beta.toml", "backend.root", JSON.stringify("/srv/d/state/x/y"));
    // Siblings, another cluster, or another kind of backend are fine.
    const fine = crossCheck(
      [
        tenant("alpha", { backend: ceph("/tenants/alpha") }),
        tenant("beta", { cpus: [1], backend: ceph("/tenants/beta") }),
        tenant("gamma", { cpus: [2], backend: ceph("/tenants/alpha", "/other/ceph.conf") }),
        tenant("delta", { cpus: [3], backend: { kind: "local", root: "/tenants/alpha" } }),
      ],
      facts,
    );
    expect(fine.rejected).toEqual([]);
  });

  test("tenants that fit are all accepted, in name order", () => {
    const r = crossCheck([tenant("gamma", { cpus: [2] }), tenant("alpha", { cpus: [0] }), tenant("beta", { cpus: [1, 3] })], facts);
    expect(names(r.accepted)).toEqual(["alpha", "beta", "gamma"]);
    expect(r.rejected).toEqual([]);
  });

  test("two tenants may not run as the same user; gid defaults to the uid", () => {
    const alpha = tenant("alpha", { uid: 2001 });
    expect(alpha.user).toEqual({ uid: 2001, gid: 2001 });
    expect(tenant("gamma", { uid: 2003, gid: 3000 }).user).toEqual({ uid: 2003, gid: 3000 });
    expect(tenant("delta").user).toBeNull();
    const r = crossCheck([alpha, tenant("beta", { cpus: [1], uid: 2001 })], facts);
    expect(names(r.accepted)).toEqual(["alpha"]);
    const issue = expectIssue(r.rejected[0]!.issues, "beta.toml", "uid", "2001");
    expect(issue.expected).toContain("tenant alpha");
  });

  test("the same mount point", () => {
    const m = [{ path: "/mnt/shared", source: "", legacy: false }];
    const r = crossCheck([tenant("beta", { cpus: [1], mounts: m }), tenant("alpha", { mounts: m })], facts);
    expect(names(r.accepted)).toEqual(["alpha"]);
    const issue = expectIssue(r.rejected[0]!.issues, "beta.toml", "mounts[0].path", '"/mnt/shared"');
    expect(issue.expected).toContain("tenant alpha (alpha.toml)");
  });

  test("nested mount points, either way round", () => {
    const inner = tenant("beta", { cpus: [1], mounts: [{ path: "/mnt/danaus/alpha/data", source: "", legacy: false }] });
    const r = crossCheck([tenant("alpha"), inner], facts);
    expectIssue(r.rejected[0]!.issues, "beta.toml", "mounts[0].path", '"/mnt/danaus/alpha/data"');
    const outer = tenant("beta", { cpus: [1], mounts: [{ path: "/mnt/danaus", source: "", legacy: false }] });
    expectIssue(crossCheck([tenant("alpha"), outer], facts).rejected[0]!.issues, "beta.toml", "mounts[0].path", '"/mnt/danaus"');
  });

  test("sibling mount points with a common prefix do not collide", () => {
    const r = crossCheck([tenant("alpha", { mounts: [{ path: "/mnt/a", source: "", legacy: false }] }), tenant("beta", { cpus: [1], mounts: [{ path: "/mnt/ab", source: "", legacy: false }] })], facts);
    expect(names(r.accepted)).toEqual(["alpha", "beta"]);
  });

  test("overlapping cpus", () => {
    const r = crossCheck([tenant("alpha", { cpus: [0, 1] }), tenant("beta", { cpus: [1, 2] })], facts);
    expect(names(r.accepted)).toEqual(["alpha"]);
    const issue = expectIssue(r.rejected[0]!.issues, "beta.toml", "cpus", "1");
    expect(issue.message).toEndWith("cpus: expected cores not used by tenant alpha (alpha.toml), found 1");
  });

  test("overlapping cpus are allowed when both set shareCpus, not when one does", () => {
    const both = crossCheck([tenant("alpha", { cpus: [0, 1], shareCpus: true }), tenant("beta", { cpus: [1], shareCpus: true })], facts);
    expect(names(both.accepted)).toEqual(["alpha", "beta"]);
    const one = crossCheck([tenant("alpha", { cpus: [0, 1] }), tenant("beta", { cpus: [1], shareCpus: true })], facts);
    expect(names(one.accepted)).toEqual(["alpha"]);
  });

  test("a core the host does not have", () => {
    const r = crossCheck([tenant("alpha", { cpus: [2, 7, 9] })], { cpus: [3, 0, 1, 2], memoryBytes: 8 * GiB });
    const issue = expectIssue(r.rejected[0]!.issues, "alpha.toml", "cpus", "7, 9");
    expect(issue.expected).toBe("cores this host has (0-3)");
  });

  test("more memory than the host has", () => {
    const r = crossCheck([tenant("alpha", { memory: 16 * GiB })], facts);
    const issue = expectIssue(r.rejected[0]!.issues, "alpha.toml", "memory", "16GiB");
    expect(issue.expected).toContain("8GiB");
  });

  test("the memory sum over the host's rejects the later tenant only", () => {
    const r = crossCheck([tenant("gamma", { cpus: [2], memory: 2 * GiB }), tenant("alpha", { memory: 4 * GiB }), tenant("beta", { cpus: [1], memory: 3 * GiB })], facts);
    expect(names(r.accepted)).toEqual(["alpha", "beta"]);
    const issue = expectIssue(r.rejected[0]!.issues, "gamma.toml", "memory", "2GiB");
    expect(issue.expected).toContain("1GiB");
    expect(issue.expected).toContain("alpha, beta");
  });

  test("a rejected tenant's memory is not counted", () => {
    const r = crossCheck([tenant("alpha", { memory: 6 * GiB }), tenant("beta", { cpus: [0], memory: 4 * GiB }), tenant("gamma", { cpus: [1], memory: 2 * GiB })], facts);
    expect(names(r.accepted)).toEqual(["alpha", "gamma"]);
  });

  test("duplicate tenant names", () => {
    const r = crossCheck([tenant("alpha", {}, "/srv/d/tenants"), tenant("alpha", { cpus: [1], mounts: [{ path: "/mnt/other", source: "", legacy: false }] }, "/srv/d/more")], facts);
    expect(r.accepted.map((t) => t.file)).toEqual(["/srv/d/more/alpha.toml"]);
    const issue = expectIssue(r.rejected[0]!.issues, "alpha.toml", "name", '"alpha"');
    expect(issue.file).toBe("/srv/d/tenants/alpha.toml");
    expect(issue.expected).toContain("tenant alpha (/srv/d/more/alpha.toml)");
  });

  test("all of a tenant's conflicts are reported", () => {
    const r = crossCheck([tenant("alpha", { cpus: [0] }), tenant("beta", { cpus: [1] }), tenant("gamma", { cpus: [0, 1], mounts: [{ path: "/mnt/danaus", source: "", legacy: false }] })], facts);
    const issues = r.rejected[0]!.issues;
    expect(issues.map((i) => i.expected)).toEqual([
      "cores not used by tenant alpha (alpha.toml)",
      "a mount point not equal to or nested with /mnt/danaus/alpha of tenant alpha (alpha.toml)",
      "cores not used by tenant beta (beta.toml)",
      "a mount point not equal to or nested with /mnt/danaus/beta of tenant beta (beta.toml)",
    ]);
  });

  test("the result does not depend on the input order", () => {
    const ts = [tenant("alpha", { cpus: [0, 1] }), tenant("beta", { cpus: [1] }), tenant("gamma", { cpus: [2] })];
    const a = crossCheck(ts, facts);
    const b = crossCheck([...ts].reverse(), facts);
    expect(b).toEqual(a);
    expect(names(a.rejected.map((x) => x.tenant))).toEqual(["beta"]);
  });

  test("a running tenant keeps its cores, backend root, mount points and uid against a newcomer that sorts before it", () => {
    const b = tenant("b", { cpus: [1], uid: 2002, mounts: [{ path: "/mnt/b", source: "", legacy: false }] });
    const ab = tenant("ab", { cpus: [1], uid: 2002, backend: { kind: "local", root: "b" }, mounts: [{ path: "/mnt/b", source: "", legacy: false }] });
    const r = crossCheck([ab], facts, [b]);
    expect(r.accepted).toEqual([]);
    expect(r.rejected.map((x) => x.tenant.name)).toEqual(["ab"]);
    expect(r.rejected[0]!.issues.map((i) => i.path)).toEqual(["uid", "cpus", "backend.root", "mounts[0].path"]);
    for (const issue of r.rejected[0]!.issues) expect(issue.message).toContain("tenant b (b.toml)");
  });

  test("a new version of a running tenant replaces its claim, is checked first, and newcomers meet it", () => {
    const running = [tenant("alpha", { cpus: [0] }), tenant("beta", { cpus: [1] })];
    // beta moves to core 2; aaa (a newcomer sorting first) wants core 2 too, and gamma takes core 1 that beta leaves.
    const r = crossCheck([tenant("aaa", { cpus: [2] }), tenant("beta", { cpus: [2] }), tenant("gamma", { cpus: [1] })], facts, running);
    expect(names(r.accepted)).toEqual(["beta", "gamma"]);
    expect(names(r.rejected.map((x) => x.tenant))).toEqual(["aaa"]);
    expect(r.rejected[0]!.issues[0]!.message).toContain("tenant beta");
  });

  test("memory left is counted over the running tenants", () => {
    const running = [tenant("zeta", { memory: 6 * GiB })];
    const r = crossCheck([tenant("alpha", { cpus: [1], memory: 4 * GiB })], facts, running);
    expectIssue(r.rejected[0]!.issues, "alpha.toml", "memory", "4GiB");
    expect(r.rejected[0]!.issues[0]!.expected).toContain("2GiB of the host's 8GiB left by tenants zeta");
  });
});
