/** @module check-file.test — `danaus check`: host and tenant files, valid and invalid. */
import { describe, expect, test } from "bun:test";
import { checkFile, type HostFacts } from "../../../kernel/config/index.ts";
import { expectIssue, tenantToml, useTempDir } from "./fixture.ts";

const tmp = useTempDir();
const facts: HostFacts = { cpus: [0, 1], memoryBytes: 8 * 1024 ** 3 };

describe("checkFile", () => {
  test("a valid tenant file alone, with built-in defaults", () => {
    expect(checkFile(tmp.write("alpha.toml", tenantToml("alpha")))).toEqual([]);
  });

  test("an invalid tenant file", () => {
    const file = tmp.write("alpha.toml", tenantToml("alpha", "[cache]\nblockSize = 1000"));
    const issues = checkFile(file);
    expect(issues).toHaveLength(1);
    expectIssue(issues, file, "cache.blockSize", "1000 bytes");
  });

  test("a tenant file checked with a host's defaults", () => {
    const host = tmp.write("host.toml", 'stateDir = "s"\ntenantsDir = "t"\n[defaults]\nmemory = "256MiB"\n');
    const file = tmp.write("alpha.toml", tenantToml("alpha", '[cache]\nsize = "512MiB"'));
    expect(checkFile(file)).toEqual([]);
    const issue = expectIssue(checkFile(file, { host }), file, "cache.size", "512MiB");
    expect(issue.expected).toContain("256MiB (from [defaults] in");
  });

  test("a tenant file checked with an invalid host reports the host's issues", () => {
    const host = tmp.write("host.toml", 'stateDir = "s"\n');
    const issues = checkFile(tmp.write("alpha.toml", tenantToml("alpha")), { host });
    expectIssue(issues, host, "tenantsDir", "nothing");
  });

  test("a valid host file and its tenants", () => {
    tmp.write("tenants/alpha.toml", tenantToml("alpha", "", "[0]"));
    tmp.write("tenants/beta.toml", tenantToml("beta", "", "[1]"));
    expect(checkFile(tmp.write("host.toml", 'stateDir = "s"\ntenantsDir = "tenants"\n'), { facts })).toEqual([]);
  });

  test("a host file reports its tenants' issues, each against its own file", () => {
    const alpha = tmp.write("tenants/alpha.toml", tenantToml("alpha", "oops = 1", "[0]"));
    const beta = tmp.write("tenants/beta.toml", tenantToml("beta", "", "[5]"));
    const issues = checkFile(tmp.write("host.toml", 'stateDir = "s"\ntenantsDir = "tenants"\n'), { facts });
    expect(issues).toHaveLength(2);
    expectIssue(issues.filter((i) => i.file === alpha), alpha, "oops", "unknown field");
    expectIssue(issues.filter((i) => i.file === beta), beta, "cpus", "5");
  });

  test("an invalid host file", () => {
    const file = tmp.write("host.toml", 'stateDir = "s"\ntenantsDir = "t"\nheartbeat = 5\n');
    expectIssue(checkFile(file), file, "heartbeat", "unknown field");
  });

  test("a host file with a missing tenantsDir", () => {
    const file = tmp.write("host.toml", 'stateDir = "s"\ntenantsDir = "nowhere"\n');
    expectIssue(checkFile(file, { facts }), file, "tenantsDir", "does not exist");
  });

  test("a file that does not exist or is not TOML", () => {
    expectIssue(checkFile(`${tmp.dir()}/missing.toml`), "missing.toml", "", "no such file");
    const file = tmp.write("x.toml", "= 1\n");
    expect(expectIssue(checkFile(file), file, "", "syntax error").line).toBe(1);
  });
});
