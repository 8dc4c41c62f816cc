/** @module load-tenants.test — loading a host's tenant directory: bad files rejected alone, then the cross-check. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadHost, loadTenants, type HostFacts } from "../../../kernel/config/index.ts";
import { expectIssue, tenantToml, useTempDir } from "./fixture.ts";

const tmp = useTempDir();
const facts: HostFacts = { cpus: [0, 1, 2, 3], memoryBytes: 16 * 1024 ** 3 };

function host(defaults = "") {
  return loadHost(tmp.write("host.toml", `stateDir = "state"\ntenantsDir = "tenants"\n${defaults}`));
}

describe("loadTenants", () => {
  test("loads every *.toml in name order, with the host's defaults", () => {
    tmp.write("tenants/beta.toml", tenantToml("beta", "", "[1]"));
    tmp.write("tenants/alpha.toml", tenantToml("alpha", "", "[0]"));
    tmp.write("tenants/README.md", "not a tenant");
    tmp.write("tenants/old.toml.bak", "not a tenant");
    const { host: h, defaults } = host('[defaults]\nmemory = "2GiB"\n');
    const r = loadTenants(h, defaults, facts);
    expect(r.accepted.map((t) => t.name)).toEqual(["alpha", "beta"]);
    expect(r.accepted[0]!.memoryBytes).toBe(2 * 1024 ** 3);
    expect(r.accepted[0]!.file).toBe(join(tmp.dir(), "tenants/alpha.toml"));
    expect(r.rejected).toEqual([]);
  });

  test("an invalid tenant is rejected while the others are accepted", () => {
    tmp.write("tenants/alpha.toml", tenantToml("alpha", "", "[0]"));
    const bad = tmp.write("tenants/beta.toml", tenantToml("beta", 'memory = "much"', "[1]"));
    const broken = tmp.write("tenants/delta.toml", 'name = "delta"\ncpus = [\n');
    tmp.write("tenants/gamma.toml", tenantToml("gamma", "", "[2]"));
    const { host: h, defaults } = host();
    const r = loadTenants(h, defaults, facts);
    expect(r.accepted.map((t) => t.name)).toEqual(["alpha", "gamma"]);
    expect(r.rejected.map((x) => [x.file, x.name])).toEqual([
      [bad, "beta"],
      [broken, undefined],
    ]);
    expectIssue(r.rejected[0]!.issues, bad, "memory", '"much"');
    expect(r.rejected[1]!.issues[0]!.line).toBe(2);
  });

  test("cross-tenant conflicts are rejected in file order with the rest", () => {
    tmp.write("tenants/alpha.toml", tenantToml("alpha", "", "[0, 1]"));
    const beta = tmp.write("tenants/beta.toml", tenantToml("beta", "", "[1]"));
    const c = tmp.write("tenants/c.toml", tenantToml("c", "", "[9]"));
    const { host: h, defaults } = host();
    const r = loadTenants(h, defaults, facts);
    expect(r.accepted.map((t) => t.name)).toEqual(["alpha"]);
    expect(r.rejected.map((x) => x.name)).toEqual(["beta", "c"]);
    expectIssue(r.rejected[0]!.issues, beta, "cpus", "1");
    expectIssue(r.rejected[1]!.issues, c, "cpus", "9");
  });

  test("a missing tenantsDir is one issue on the host file", () => {
    const { host: h, defaults } = host();
    const r = loadTenants(h, defaults, facts);
    expect(r.accepted).toEqual([]);
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0]!.file).toBe(h.file);
    expectIssue(r.rejected[0]!.issues, h.file, "tenantsDir", "does not exist");
  });

  test("a tenantsDir that is a file", () => {
    tmp.write("tenants", "oops");
    const { host: h, defaults } = host();
    expectIssue(loadTenants(h, defaults, facts).rejected[0]!.issues, h.file, "tenantsDir", "not a directory");
  });

  test("an empty tenantsDir has no tenants and no issues", () => {
    tmp.write("tenants/.keep", "");
    const { host: h, defaults } = host();
    expect(loadTenants(h, defaults, facts)).toEqual({ accepted: [], rejected: [] });
  });
});
