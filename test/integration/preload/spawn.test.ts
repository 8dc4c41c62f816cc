/**
 * posix_spawn and posix_spawnp on the preload path (shims/preload/spawn.c): unmodified python3 (spawn-driver.py) spawns
 * /bin/echo, cat, sh and pwd with file actions and attributes, through `danaus run` against a real supervisor
 * whose tenant alpha has a mount no kernel process can see (not legacy). Each case runs once in the mount and once in
 * a host directory; the spawned programs must leave the same bytes in both, and the mount's in alpha's backend. A
 * statically linked program, which cannot take a private descriptor over, is refused with ENOTSUP and a log line; on
 * tenant beta's legacy (FUSE) mount it gets a kernel descriptor of the same file instead (needs root and /dev/fuse).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isMountPoint } from "../../../kernel/sys/mounts.ts";
import { fuseTestsRun } from "../data-path/legacy-fixture.ts";
import { Harness, LAST_CPU, tenantToml, waitFor } from "../harness.ts";

setDefaultTimeout(120_000);
const ROOT = resolve(import.meta.dir, "../../..");
const ALPHA = "/mnt/test/alpha";
const DRIVER = join(import.meta.dir, "spawn-driver.py");
let h: Harness;
let host: string;
let scratch: string;
let staticWriter: string;
const FUSE = fuseTestsRun("spawn.test.ts (the legacy mount case)");
const legacyBase = mkdtempSync(join(tmpdir(), "danaus-spawn-legacy-"));
/** Tenant beta's legacy mount (a FUSE mount of its backend's `legacy` directory). */
const LEGACY = join(legacyBase, "mnt");

beforeAll(async () => {
  const build = Bun.spawnSync(["bash", join(ROOT, "shims/preload/build.sh")], { stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`building the preload library failed: ${build.stderr.toString()}`);
  scratch = mkdtempSync(join(tmpdir(), "danaus-spawn-scratch-"));
  host = mkdtempSync(join(tmpdir(), "danaus-spawn-host-"));
  staticWriter = join(scratch, "static-writer");
  const cc = Bun.spawnSync(["cc", "-static", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", staticWriter, join(import.meta.dir, "static-writer.c")], { stderr: "pipe" });
  if (cc.exitCode !== 0) throw new Error(`building static-writer.c failed (needs libc6-dev's libc.a): ${cc.stderr.toString()}`);
  const beta = tenantToml("beta", LAST_CPU, `[[mounts]]\npath = "${LEGACY}"\nsource = "legacy"\nlegacy = true\n`, "");
  h = new Harness({ tenants: { alpha: tenantToml("alpha", 0, "", ""), ...(FUSE ? { beta } : {}) } });
  await h.start(FUSE ? ["alpha", "beta"] : ["alpha"]);
  if (FUSE) await waitFor("beta's FUSE mount", () => isMountPoint(LEGACY), 60_000);
}, 120_000);
afterAll(async () => {
  await h?.stop();
  if (isMountPoint(LEGACY)) Bun.spawnSync(["umount", "-l", LEGACY]);
  for (const dir of [host, scratch, legacyBase]) if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** `danaus run --tenant T [--asan] -- python3 spawn-driver.py CASE ARGS…` with R = `root`; `root` reads as $R. */
async function driver(root: string, which: string, asan = false, ...args: string[]): Promise<Ran> {
  const tenant = root.startsWith(LEGACY) ? "beta" : "alpha";
  const argv = [process.execPath, join(ROOT, "kernel/cli/main.ts"), "run", "--tenant", tenant, "--config", h.hostFile, ...(asan ? ["--asan"] : []), "--", "/usr/bin/python3", DRIVER, which, ...args];
  const proc = Bun.spawn(argv, { cwd: scratch, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, R: root } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout: stdout.replaceAll(root, "$R"), stderr };
}

/** The backing directory of alpha's mount. */
const backing = () => join(h.dir, "state/backends/alpha/data");

/** What each case prints, the same in the mount and on the host. */
const EXPECTED: Record<string, string> = {
  open: "open 0 0 'opened by the spawn\\n' 'opened by the spawn\\nparent after\\n'\n",
  inherit: "open\nclosed\ninherit 0 0 'from sh\\n'\n",
  attributes: "attributes 0 session is its own SIGUSR1 blocked SIGUSR2 default\nattributes 0 group is its own other Operation not permitted\n",
  missing: "missing No such file or directory No such file or directory No such file or directory No such file or directory never exists\n",
  subprocess:
    "subprocess 0 0 0 'through subprocess\\nand through posix_spawn\\npython last\\n' 'through subprocess\\nand through posix_spawn\\npython last\\n'\n",
  chdir: "chdir 0 0 0 '$R\\n' 'read relative to a directory descriptor\\n' 'closed\\n'\n",
};

describe("posix_spawn from unmodified python3, on a mount no kernel process can see", () => {
  for (const [which, expected] of Object.entries(EXPECTED)) {
    test(`${which}: the spawned programs leave the same bytes as on the host`, async () => {
      const kernel = await driver(join(host, which), which);
      expect(kernel).toEqual({ code: 0, stdout: expected, stderr: "" });
      const mount = await driver(`${ALPHA}/${which}`, which);
      expect(mount).toEqual({ code: 0, stdout: expected, stderr: "" });
      const asan = await driver(`${ALPHA}/${which}-asan`, which, true);
      expect(asan).toEqual({ code: 0, stdout: expected, stderr: "" });
    });
  }

  test("the files the spawned programs wrote are in alpha's backend", () => {
    expect(readFileSync(join(backing(), "open/dup"), "utf8")).toBe("opened by the spawn\nparent after\n");
    expect(readFileSync(join(backing(), "inherit/inherited"), "utf8")).toBe("from sh\n");
    expect(readFileSync(join(backing(), "subprocess/sub"), "utf8")).toBe("through subprocess\nand through posix_spawn\npython last\n");
    expect(readFileSync(join(backing(), "chdir/pwd"), "utf8")).toBe(`${ALPHA}/chdir\n`);
  });

  test("a statically linked program is refused (ENOTSUP, a log line) when a private descriptor would be handed to it", async () => {
    const kernel = await driver(join(host, "static"), "static", false, staticWriter);
    expect(kernel).toEqual({ code: 0, stdout: "written by a static program\nstatic 0 0 'written by a static program\\n'\n", stderr: "" });
    const mount = await driver(`${ALPHA}/static`, "static", false, staticWriter);
    expect({ code: mount.code, stdout: mount.stdout }).toEqual({ code: 0, stdout: "written by a static program\nstatic Operation not supported 0 ''\n" });
    expect(mount.stderr).toContain(`not running ${staticWriter}: 1 private descriptor(s) would be handed over, but a statically linked program does not load the library (ENOTSUP)`);
  });

  test.skipIf(!FUSE)("on a legacy mount, a statically linked program gets a kernel descriptor of the same file, at the parent's position", async () => {
    const expected = "legacy 0 'parent first\\nwritten by a static program\\n'\n";
    const kernel = await driver(join(host, "legacy"), "legacy", false, staticWriter);
    expect(kernel).toEqual({ code: 0, stdout: expected, stderr: "" });
    const mount = await driver(join(LEGACY, "static-case"), "legacy", false, staticWriter);
    expect(mount).toEqual({ code: 0, stdout: expected, stderr: "" });
    expect(readFileSync(join(h.dir, "state/backends/beta/legacy/static-case/static"), "utf8")).toBe("parent first\nwritten by a static program\n");
  });
});
