/** @module reload-plan.test — what a reload does with conflicting, invalid, renamed, changed and removed tenant files (no processes). */
import { describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { readTenantFiles, type HostFacts, type TenantConfig } from "../../../kernel/config/index.ts";
import { planReload } from "../../../kernel/supervisor/reload-plan.ts";
import { hostAt, NO_DEFAULTS, tenantToml, useTempDir } from "../config/fixture.ts";

const tmp = useTempDir();
const facts: HostFacts = { cpus: [0, 1, 2, 3], memoryBytes: 16 * 1024 ** 3 };

/** Writes the tenant files (name → TOML) and reads the tenants directory as a reload would. */
function files(tenants: Record<string, string>) {
  for (const [name, text] of Object.entries(tenants)) tmp.write(`tenants/${name}.toml`, text);
  return readTenantFiles(hostAt(tmp.dir()), NO_DEFAULTS);
}

/** The tenants as a first start admits them (they are then held). */
function boot(tenants: Record<string, string>): TenantConfig[] {
  const plan = planReload([], files(tenants), facts);
  expect(plan.rejected).toEqual([]);
  return plan.start;
}

const paths = (plan: { rejected: { file: string; issues: { path: string }[] }[] }) =>
  plan.rejected.map((r) => ({ file: r.file.slice(tmp.dir().length + 1), paths: r.issues.map((i) => i.path) }));

describe("planReload", () => {
  test("a newcomer that sorts before a running tenant and takes its cores and backend root is refused; the running tenant is untouched", () => {
    const held = boot({ alpha: tenantToml("alpha", "", "[0]"), b: tenantToml("b", "", "[1]") });
    // ab sorts before b: at a fresh start it would win.
    const ab = `name = "ab"\ncpus = [1]\nbackend = { kind = "local", root = "data/b" }\n`;
    const plan = planReload(held, files({ ab }), facts);
    expect(plan).toMatchObject({ stop: [], restart: [], start: [], unchanged: ["alpha", "b"], kept: [] });
    expect(paths(plan)).toEqual([{ file: "tenants/ab.toml", paths: ["cpus", "backend.root"] }]);
    for (const issue of plan.rejected[0]!.issues) expect(issue.message).toContain("tenant b (b.toml)");
  });

  test("the same files at a fresh start admit the first name: only a running tenant has precedence", () => {
    const plan = planReload([], files({ ab: `name = "ab"\ncpus = [1]\nbackend = { kind = "local", root = "data/b" }\n`, b: tenantToml("b", "", "[1]") }), facts);
    expect(plan.start.map((t) => t.name)).toEqual(["ab"]);
    expect(paths(plan)).toEqual([{ file: "tenants/b.toml", paths: ["cpus", "backend.root"] }]);
  });

  test("a newcomer may not take a running tenant's mount point or uid either", () => {
    const held = boot({ b: tenantToml("b", 'uid = 2001\n[[mounts]]\npath = "/mnt/b"\nsource = ""', "[1]") });
    const plan = planReload(held, files({ a: tenantToml("a", 'uid = 2001\n[[mounts]]\npath = "/mnt/b/inner"\nsource = ""', "[0]") }), facts);
    expect(plan.start).toEqual([]);
    expect(paths(plan)).toEqual([{ file: "tenants/a.toml", paths: ["uid", "mounts[0].path"] }]);
  });

  test("a syntax error in a running tenant's file keeps it running its last good version", () => {
    const held = boot({ alpha: tenantToml("alpha", "", "[0]"), b: tenantToml("b", "", "[1]") });
    const plan = planReload(held, files({ b: `${tenantToml("b", "", "[1]")}memory = "1GiB\n` }), facts);
    expect(plan).toMatchObject({ stop: [], restart: [], start: [], unchanged: ["alpha"], kept: ["b"] });
    expect(plan.rejected[0]!.issues[0]).toMatchObject({ path: "", expected: "valid TOML", line: 5 });
  });

  test("a changed name in a running tenant's file keeps it running, and no tenant of the new name starts", () => {
    const held = boot({ alpha: tenantToml("alpha", "", "[0]"), b: tenantToml("b", "", "[1]") });
    const plan = planReload(held, files({ b: tenantToml("c", "", "[1]") }), facts);
    expect(plan).toMatchObject({ stop: [], restart: [], start: [], unchanged: ["alpha"], kept: ["b"] });
    expect(paths(plan)).toEqual([{ file: "tenants/b.toml", paths: ["name"] }]);
  });

  test("a change that collides with another running tenant is refused and keeps the running version", () => {
    const held = boot({ alpha: tenantToml("alpha", "", "[0]"), b: tenantToml("b", "", "[1]") });
    const plan = planReload(held, files({ b: tenantToml("b", "", "[0]") }), facts);
    expect(plan).toMatchObject({ restart: [], kept: ["b"], unchanged: ["alpha"] });
    expect(plan.rejected[0]!.issues[0]!.message).toContain("tenant alpha");
  });

  test("a change that fits restarts the tenant; a newcomer is checked against the new version", () => {
    const held = boot({ alpha: tenantToml("alpha", "", "[0]"), b: tenantToml("b", "", "[1]") });
    const plan = planReload(held, files({ b: tenantToml("b", "", "[2]"), c: tenantToml("c", "", "[1]"), d: tenantToml("d", "", "[2]") }), facts);
    expect(plan.restart.map((t) => [t.name, t.cpus])).toEqual([["b", [2]]]);
    // c takes the core b gives up (b restarts before c starts); d wants b's new core.
    expect(plan.start.map((t) => t.name)).toEqual(["c"]);
    expect(paths(plan)).toEqual([{ file: "tenants/d.toml", paths: ["cpus"] }]);
  });

  test("two running tenants cannot swap cores in one reload: each new version meets the other's running one", () => {
    const held = boot({ alpha: tenantToml("alpha", "", "[0]"), b: tenantToml("b", "", "[1]") });
    const plan = planReload(held, files({ alpha: tenantToml("alpha", "", "[1]"), b: tenantToml("b", "", "[0]") }), facts);
    expect(plan).toMatchObject({ restart: [], kept: ["alpha", "b"] });
  });

  test("a tenant whose file is removed stops, and a newcomer may take its cores in the same reload", () => {
    const held = boot({ alpha: tenantToml("alpha", "", "[0]"), b: tenantToml("b", "", "[1]") });
    rmSync(`${tmp.dir()}/tenants/b.toml`);
    const plan = planReload(held, files({ c: tenantToml("c", "", "[1]") }), facts);
    expect(plan).toMatchObject({ stop: ["b"], unchanged: ["alpha"], kept: [], rejected: [] });
    expect(plan.start.map((t) => t.name)).toEqual(["c"]);
  });

  test("a tenants directory that cannot be listed stops nothing", () => {
    const held = boot({ alpha: tenantToml("alpha", "", "[0]") });
    rmSync(`${tmp.dir()}/tenants`, { recursive: true });
    const read = readTenantFiles(hostAt(tmp.dir()), NO_DEFAULTS);
    expect(read.files).toBeNull();
    const plan = planReload(held, read, facts);
    expect(plan).toMatchObject({ stop: [], restart: [], start: [], kept: [] });
    expect(paths(plan)).toEqual([{ file: "host.toml", paths: ["tenantsDir"] }]);
  });
});
