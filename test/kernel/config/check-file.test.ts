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

  describe("a tenant file checked against its host's other tenants", () => {
    function hostWithB(): string {
      tmp.write("tenants/b.toml", tenantToml("b", '[[mounts]]\npath = "/mnt/b"\nsource = ""\n', "[1]"));
      return tmp.write("host.toml", 'stateDir = "s"\ntenantsDir = "tenants"\n');
    }

    test("a newcomer that sorts first and takes b's cores and backend root is reported, in the tenants directory or outside it", () => {
      const host = hostWithB();
      const ab = 'name = "ab"\ncpus = [1]\nbackend = { kind = "local", root = "data/b" }\n';
      for (const file of [tmp.write("tenants/ab.toml", ab), tmp.write("elsewhere/ab.toml", ab)]) {
        const issues = checkFile(file, { host, facts });
        expect(issues.map((i) => i.path)).toEqual(["cpus", "backend.root"]);
        for (const issue of issues) expect(issue.message).toContain("tenant b");
      }
    });

    test("every check across tenants: cores the host lacks, memory, mount points, uid", () => {
      const host = hostWithB();
      tmp.write("tenants/c.toml", tenantToml("c", "uid = 3000", "[0]"));
      const four: HostFacts = { cpus: [0, 1, 2, 3], memoryBytes: 8 * 1024 ** 3 };
      const check = (name: string, extra: string, cpus: string) => checkFile(tmp.write(`new/${name}.toml`, tenantToml(name, extra, cpus)), { host, facts: four }).map((i) => i.path);
      expect(check("d", "", "[7]")).toEqual(["cpus"]);
      expect(check("d", 'memory = "9GiB"', "[0]")).toEqual(["memory", "cpus"]);
      expect(check("d", '[[mounts]]\npath = "/mnt/b/inner"\nsource = ""', "[2]")).toEqual(["mounts[0].path"]);
      expect(check("d", "uid = 3000", "[3]")).toEqual(["uid"]);
      expect(check("d", "", "[3]")).toEqual([]);
    });

    test("a new version of a tenant is checked against the others, not against its old self", () => {
      const host = hostWithB();
      expect(checkFile(tmp.write("tenants/b.toml", tenantToml("b", 'memory = "2GiB"', "[1]")), { host, facts })).toEqual([]);
      expect(checkFile(tmp.write("next/b.toml", tenantToml("b", "", "[1]")), { host, facts })).toEqual([]);
    });

    test("a host whose tenants directory cannot be listed is reported", () => {
      const host = tmp.write("host.toml", 'stateDir = "s"\ntenantsDir = "nowhere"\n');
      expectIssue(checkFile(tmp.write("alpha.toml", tenantToml("alpha")), { host, facts }), host, "tenantsDir", "does not exist");
    });

    test("without a host the file is checked alone", () => {
      hostWithB();
      expect(checkFile(tmp.write("tenants/ab.toml", 'name = "ab"\ncpus = [1]\nbackend = { kind = "local", root = "data/b" }\n'), { facts })).toEqual([]);
    });
  });
});
