/** The CLI's offline commands (check, schema, help), run as a real process. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const CLI = resolve(import.meta.dir, "../../../kernel/cli/main.ts");
const dir = mkdtempSync(join(tmpdir(), "danaus-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  const proc = Bun.spawn([process.execPath, CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

describe("danaus check", () => {
  test("a valid tenant file passes", async () => {
    const file = join(dir, "alpha.toml");
    writeFileSync(file, 'name = "alpha"\ncpus = [0]\n[backend]\nkind = "local"\nroot = "a"\n');
    const { code, stdout } = await cli("check", file);
    expect(code).toBe(0);
    expect(stdout).toContain("ok");
  });
  test("an invalid one exits 1 naming file, field and value", async () => {
    const file = join(dir, "beta.toml");
    writeFileSync(file, 'name = "beta"\ncpus = [0]\nmemory = "12 parsecs"\n[backend]\nkind = "local"\nroot = "b"\n');
    const { code, stderr } = await cli("check", file);
    expect(code).toBe(1);
    expect(stderr).toContain("beta.toml");
    expect(stderr).toContain("memory");
    expect(stderr).toContain("12 parsecs");
  });
  test("a tenant file with --host is checked against the host's other tenants, even one whose name sorts after it", async () => {
    const host = join(dir, "conflict", "host.toml");
    mkdirSync(join(dir, "conflict", "tenants"), { recursive: true });
    writeFileSync(host, 'stateDir = "state"\ntenantsDir = "tenants"\n');
    writeFileSync(join(dir, "conflict", "tenants", "b.toml"), 'name = "b"\ncpus = [0]\n[backend]\nkind = "local"\nroot = "b"\n');
    const file = join(dir, "conflict", "tenants", "ab.toml");
    writeFileSync(file, 'name = "ab"\ncpus = [0]\n[backend]\nkind = "local"\nroot = "b"\n');
    expect((await cli("check", file)).code).toBe(0);
    const { code, stderr } = await cli("check", file, "--host", host);
    expect(code).toBe(1);
    expect(stderr).toContain("ab.toml: cpus: expected cores not used by tenant b (b.toml), found 0");
    expect(stderr).toContain("ab.toml: backend.root: expected a backend root not equal to or nested with");
  });
  test("the demo host config and its tenants are valid", async () => {
    expect((await cli("check", resolve(import.meta.dir, "../../../config/demo/host.toml"))).code).toBe(0);
  });
});

describe("danaus schema", () => {
  test("writes JSON Schemas of the host and tenant files", async () => {
    const { code } = await cli("schema", "--out", join(dir, "schemas"));
    expect(code).toBe(0);
    const tenant = JSON.parse(readFileSync(join(dir, "schemas", "tenant.schema.json"), "utf8"));
    const host = JSON.parse(readFileSync(join(dir, "schemas", "host.schema.json"), "utf8"));
    expect(Object.keys(tenant.properties)).toEqual(expect.arrayContaining(["name", "cpus", "memory", "backend", "cache", "mounts", "topology", "restart"]));
    expect(Object.keys(host.properties)).toEqual(expect.arrayContaining(["stateDir", "tenantsDir", "controlSocket", "defaults"]));
  });
});

describe("usage", () => {
  test("an unknown command exits 2 with the usage", async () => {
    const { code, stderr } = await cli("frobnicate");
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "frobnicate"');
    expect(stderr).toContain("usage:");
  });
  test("talking to a supervisor that is not running is a clear error", async () => {
    const host = join(dir, "host.toml");
    writeFileSync(host, `stateDir = "${join(dir, "state")}"\ntenantsDir = "${dir}"\n`);
    const { code, stderr } = await cli("status", "--config", host);
    expect(code).toBe(1);
    expect(stderr).toContain("is the supervisor running?");
  });
});
