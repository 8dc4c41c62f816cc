/** @module load-host.test — the host config: path resolution, [defaults], and its error paths. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadHost } from "../../../kernel/config/index.ts";
import { expectIssue, issuesOf, useTempDir } from "./fixture.ts";

const tmp = useTempDir();

describe("loadHost", () => {
  test("relative paths resolve against the host file's directory; controlSocket defaults into stateDir", () => {
    const file = tmp.write("etc/host.toml", 'stateDir = "state"\ntenantsDir = "../tenants"\n');
    const { host, defaults } = loadHost(file);
    expect(host).toEqual({
      file,
      instance: "default",
      stateDir: join(tmp.dir(), "etc/state"),
      tenantsDir: join(tmp.dir(), "tenants"),
      controlSocket: join(tmp.dir(), "etc/state/control.sock"),
      heartbeatMs: 250,
      hungAfterMs: 2000,
      startTimeoutMs: 15000,
    });
    expect(defaults).toEqual({});
  });

  test("absolute paths are kept and controlSocket can be set", () => {
    const file = tmp.write("host.toml", 'instance = "lab-1"\nstateDir = "/var/lib/danaus"\ntenantsDir = "/etc/danaus/tenants"\ncontrolSocket = "run/ctl.sock"\nheartbeatMs = 100\n');
    const { host } = loadHost(file);
    expect(host.stateDir).toBe("/var/lib/danaus");
    expect(host.tenantsDir).toBe("/etc/danaus/tenants");
    expect(host.controlSocket).toBe(join(tmp.dir(), "run/ctl.sock"));
    expect(host.instance).toBe("lab-1");
    expect(host.heartbeatMs).toBe(100);
  });

  test("returns [defaults] with sizes in bytes", () => {
    const file = tmp.write("host.toml", 'stateDir = "s"\ntenantsDir = "t"\n[defaults]\nmemory = "2GiB"\n[defaults.cache]\nwritebackMs = 500\n');
    expect(loadHost(file).defaults).toEqual({ memory: 2 * 1024 ** 3, cache: { writebackMs: 500 } });
  });

  test("a missing host file", () => {
    const file = join(tmp.dir(), "nope.toml");
    expectIssue(issuesOf(() => loadHost(file)), file, "", "no such file");
  });

  test("a TOML syntax error", () => {
    const file = tmp.write("host.toml", 'stateDir = "s"\n[defaults\n');
    const issue = expectIssue(issuesOf(() => loadHost(file)), file, "", "syntax error");
    expect([issue.line, issue.column]).toEqual([2, 10]);
  });

  test("unknown fields, at the top and in [defaults]", () => {
    const file = tmp.write("host.toml", 'stateDir = "s"\ntenantsDir = "t"\ntenantDir = "x"\n[defaults.cache]\nsise = 1\n');
    const issues = issuesOf(() => loadHost(file));
    expectIssue(issues, file, "tenantDir", 'did you mean "tenantsDir"');
    expectIssue(issues, file, "defaults.cache.sise", 'unknown field "sise"');
  });

  test("tenant-only fields are unknown in [defaults]", () => {
    const file = tmp.write("host.toml", 'stateDir = "s"\ntenantsDir = "t"\n[defaults]\ncpus = [0]\n');
    expectIssue(issuesOf(() => loadHost(file)), file, "defaults.cpus", 'unknown field "cpus"');
  });

  test("missing and mistyped fields", () => {
    const file = tmp.write("host.toml", 'tenantsDir = 5\nheartbeatMs = 1\n');
    const issues = issuesOf(() => loadHost(file));
    expectIssue(issues, file, "stateDir", "nothing");
    expectIssue(issues, file, "tenantsDir", "5");
    expectIssue(issues, file, "heartbeatMs", "1");
  });

  test("inconsistent [defaults]", () => {
    const file = tmp.write(
      "host.toml",
      'stateDir = "s"\ntenantsDir = "t"\n[defaults]\nmemory = "1GiB"\ntopology = [["client-cache", "union"]]\n[defaults.cache]\nsize = "2GiB"\nmaxDirty = "3GiB"\nblockSize = "3KiB"\n[defaults.restart]\nbackoffBaseMs = 10\nbackoffCapMs = 5\n',
    );
    const issues = issuesOf(() => loadHost(file));
    expectIssue(issues, file, "defaults.cache.size", "2GiB");
    expectIssue(issues, file, "defaults.cache.maxDirty", "3GiB");
    expectIssue(issues, file, "defaults.cache.blockSize", "3KiB");
    expectIssue(issues, file, "defaults.restart.backoffBaseMs", "10");
    expect(expectIssue(issues, file, "defaults.topology", "client-cache").expected).toContain('"ipc-router"');
    expect(issues).toHaveLength(5);
  });
});
