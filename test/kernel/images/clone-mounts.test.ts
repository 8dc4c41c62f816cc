/** Tests of `danaus clone` and its library: the appended [[mounts]] load with the config loader, numbering continues, bad results are refused. */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadHost, loadTenantFile } from "../../../kernel/config/index.ts";
import { appendedTenant, cloneMounts, importImage, mountsToml, type ImageManifest } from "../../../kernel/images/index.ts";
import { makeSourceTree, makeTestHost } from "./fixture.ts";

const CLI = resolve(import.meta.dir, "../../../kernel/cli/main.ts");
const host = makeTestHost();
afterAll(() => host.cleanup());
const src = join(host.dir, "rootfs");
mkdirSync(src);
makeSourceTree(src);
const manifest: ImageManifest = { schemaVersion: 1, name: "base", created: "2026-01-01T00:00:00Z", layers: [] };
manifest.layers.push(
  { path: "images/base/layer1", source: "/x", format: "tar", digest: "sha256:1", files: 0, directories: 0, symlinks: 0, hardlinks: 0, bytes: 0, skipped: [] },
  { path: "images/base/layer0", source: "/y", format: "tar", digest: "sha256:0", files: 0, directories: 0, symlinks: 0, hardlinks: 0, bytes: 0, skipped: [] },
);

async function cli(...args: string[]) {
  const proc = Bun.spawn([process.execPath, CLI, ...args, "--config", host.hostFile], { stdio: ["ignore", "pipe", "pipe"] });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

function tenantNow() {
  const { host: h, defaults } = loadHost(host.hostFile);
  return loadTenantFile(host.tenantFile, h, defaults);
}

describe("cloneMounts", () => {
  test("numbers clones after the highest one the tenant has, with the layers top first", () => {
    const existing = [{ path: "/mnt/danaus/t1/clones/base-4", kind: "union" as const, upper: "containers/base-4/upper", lowers: [], legacy: false }];
    const mounts = cloneMounts(manifest, 2, existing, "/mnt/c");
    expect(mounts).toEqual([
      { path: "/mnt/c/base-5", upper: "containers/base-5/upper", lowers: ["images/base/layer1", "images/base/layer0"] },
      { path: "/mnt/c/base-6", upper: "containers/base-6/upper", lowers: ["images/base/layer1", "images/base/layer0"] },
    ]);
  });
  test("a fragment that would nest a clone in another mount is refused with the loader's words", () => {
    const mounts = cloneMounts(manifest, 1, [], "/mnt/danaus/t1/data");
    expect(() => appendedTenant(host.ref(), mountsToml("base", mounts))).toThrow(/would make .*t1\.toml invalid:\n.*mounts\[1\]\.path: expected a mount point not equal to or nested/);
  });
  test("a clone into another tenant's mount is refused although the cloning tenant's name sorts first", () => {
    const other = join(host.dir, "tenants", "t2.toml");
    writeFileSync(other, 'name = "t2"\ncpus = [1]\nmemory = "256MiB"\n\n[backend]\nkind = "local"\nroot = "t2"\n\n[[mounts]]\npath = "/mnt/shared-by-t2"\nsource = "data"\n');
    try {
      const mounts = cloneMounts(manifest, 1, [], "/mnt/shared-by-t2");
      expect(() => appendedTenant(host.ref(), mountsToml("base", mounts))).toThrow(/t2/);
    } finally {
      rmSync(other);
    }
  });
});

describe("danaus clone", () => {
  test("image import, then clone appends union mounts that the config loader accepts", async () => {
    const imported = await cli("image", "import", "t1", "base", src, src);
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('imported image "base" of tenant "t1"');
    const { code, stdout } = await cli("clone", "t1", "base", "3");
    expect(code).toBe(0);
    expect(stdout).toContain("added 3 union mounts");
    expect(stdout).toContain("no supervisor answers");
    const tenant = tenantNow();
    expect(tenant.mounts.slice(1)).toEqual(
      [0, 1, 2].map((i) => ({ path: `/mnt/danaus/t1/clones/base-${i}`, kind: "union", upper: `containers/base-${i}/upper`, lowers: ["images/base/layer1", "images/base/layer0"], legacy: false })),
    );
    for (const i of [0, 1, 2]) expect(existsSync(join(host.backendRoot, "containers", `base-${i}`, "upper"))).toBe(true);
    expect((await cli("check", host.tenantFile)).code).toBe(0);
    await cli("clone", "t1", "base", "1");
    expect(tenantNow().mounts.at(-1)?.path).toBe("/mnt/danaus/t1/clones/base-3");
  });
  test("--print prints the fragment and changes nothing", async () => {
    const before = readFileSync(host.tenantFile, "utf8");
    const { code, stdout } = await cli("clone", "t1", "base", "2", "--print");
    expect(code).toBe(0);
    expect(readFileSync(host.tenantFile, "utf8")).toBe(before);
    const fragment = Bun.TOML.parse(stdout) as { mounts: { path: string; upper: string; lowers: string[] }[] };
    expect(fragment.mounts.map((m) => m.path)).toEqual(["/mnt/danaus/t1/clones/base-4", "/mnt/danaus/t1/clones/base-5"]);
    expect(existsSync(join(host.backendRoot, "containers", "base-4"))).toBe(false);
  });
  test("--legacy marks the clones for the kernel path", async () => {
    const { code, stdout } = await cli("clone", "t1", "base", "1", "--print", "--legacy");
    expect(code).toBe(0);
    const fragment = Bun.TOML.parse(stdout) as { mounts: { legacy?: boolean }[] };
    expect(fragment.mounts.map((m) => m.legacy)).toEqual([true]);
    const plain = Bun.TOML.parse((await cli("clone", "t1", "base", "1", "--print")).stdout) as { mounts: { legacy?: boolean }[] };
    expect(plain.mounts.map((m) => m.legacy)).toEqual([undefined]);
  });
  test("an unknown image, an unknown tenant and a tenant without [[mounts]] are refused", async () => {
    const missing = await cli("clone", "t1", "nope", "1");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('tenant "t1" has no image "nope"');
    const unknown = await cli("clone", "zz", "base", "1");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown tenant "zz"');
    writeFileSync(join(host.dir, "tenants", "t2.toml"), 'name = "t2"\ncpus = [1]\nshareCpus = true\n[backend]\nkind = "local"\nroot = "t2"\n');
    expect((await cli("image", "import", "t2", "base", src)).code).toBe(0);
    const bare = await cli("clone", "t2", "base", "1");
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain("has no [[mounts]]");
  });
  test("a bad count is a usage error", async () => {
    expect((await cli("clone", "t1", "base", "0")).code).toBe(2);
  });
});
