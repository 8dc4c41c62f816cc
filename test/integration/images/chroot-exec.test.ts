/**
 * A container root through the kernel path: a root tree built from the host's binaries (scripts/rootfs) is imported
 * as an image, a tenant serves a union over it with `legacy = true`, and `chroot <mount> /bin/sh -c ...` runs
 * programs from it: the kernel execs them and the loader mmaps their libraries through fuse-legacy. A file written
 * through the shared-memory client is read by a chroot'd program, and a write from inside the chroot lands in the
 * clone's upper while the image stays as imported. Skipped with a printed reason when not root or without /dev/fuse
 * (failed under CI=true).
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { constants, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildRootfs } from "../../../scripts/rootfs/index.ts";
import { DanausClient } from "../../../shims/ts/client.ts";
import { mountTestsSkipped } from "../../services/fuse-legacy/fixtures/mount-support.ts";
import { startLegacy, stopLegacy, type LegacySetup } from "../data-path/legacy-fixture.ts";
import { alive, Harness, waitFor } from "../harness.ts";

setDefaultTimeout(60_000);
const skipped = mountTestsSkipped("chroot-exec.test.ts") !== undefined;
const base = mkdtempSync(join(tmpdir(), "danaus-chroot-"));
const ROOTFS = join(base, "rootfs");
const MOUNT = join(base, "root");
const UPPER = "containers/c0/upper";
const LAYER = "images/tiny/layer0";
/** chroot(8) found in this process's PATH (the chroot'd shell gets the tree's PATH). */
const CHROOT = Bun.which("chroot") ?? "/usr/sbin/chroot";
let setup: Partial<LegacySetup> = {};
let h: Harness;
let client: DanausClient | undefined;

/** A path on alpha's local backend, as the host sees it. */
const backend = (path: string) => join(h.dir, "state/backends/alpha", path);

/** Runs `script` with /bin/sh chroot'd into the union mount; returns its exit code and output. */
function inRoot(script: string): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync([CHROOT, MOUNT, "/bin/sh", "-c", script], { stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/bin:/bin" }, timeout: 30_000 });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

beforeAll(async () => {
  if (skipped) return;
  buildRootfs(ROOTFS, { programs: ["mv"] });
  const tenant = [`name = "alpha"`, `cpus = [0]`, `memory = "384MiB"`, `shareCpus = true`, `[backend]`, `kind = "local"`, `root = "backends/alpha"`,
    `[[mounts]]`, `path = "${MOUNT}"`, `upper = "${UPPER}"`, `lowers = ["${LAYER}"]`, `legacy = true`].join("\n");
  // Imported before the supervisor starts, so the tenant service finds the lower branch at its first start.
  setup = await startLegacy(tenant, MOUNT, async (h) => {
    const imported = await h.cli("image", "import", "alpha", "tiny", ROOTFS);
    if (imported.code !== 0) throw new Error(`image import failed: ${imported.stderr}`);
  });
  h = setup.h!;
  client = setup.client;
}, 120_000);
afterAll(() => stopLegacy(setup, MOUNT, base), 60_000);

test.skipIf(skipped)("programs of the image run under chroot through the mount", () => {
  const r = inRoot("echo hello from $0; ls /etc; cat /etc/hostname; id -un; echo abc | wc -c");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toBe("hello from /bin/sh\ngroup\nhostname\nhosts\nnsswitch.conf\npasswd\ndanaus\nroot\n4\n");
});

test.skipIf(skipped)("a non-root user inside the container reaches its files (the container's / is 0755)", () => {
  const r = Bun.spawnSync([CHROOT, "--userspec=65534:65534", MOUNT, "/bin/sh", "-c", "id -u; cat /etc/hostname; ls -d /"], { stdout: "pipe", stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  expect(r.stdout.toString()).toBe(`65534\n${readFileSync(join(MOUNT, "etc/hostname"), "utf8")}/\n`);
});

test.skipIf(skipped)("a file written through the shared-memory client is read by a chroot'd program", () => {
  const data = new Uint8Array(3 << 20).map((_, i) => (i * 2654435761) >>> 24);
  const fd = client!.open(`${MOUNT}/tmp/blob`, constants.O_CREAT | constants.O_WRONLY | constants.O_TRUNC, 0o644);
  client!.write(fd, data);
  client!.close(fd);
  const r = inRoot("sha256sum /tmp/blob");
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe(`${new Bun.CryptoHasher("sha256").update(data).digest("hex")}  /tmp/blob\n`);
});

test.skipIf(skipped)("an exec'd program maps its loader and libraries from the mount", async () => {
  const proc = Bun.spawn([CHROOT, MOUNT, "/bin/sleep", "30"], { stdio: ["ignore", "ignore", "pipe"] });
  try {
    // /proc/<pid>/maps shows paths from this process's root, so files of the mount carry its path.
    const maps = await waitFor("sleep's libraries mapped", () => {
      const text = readFileSync(`/proc/${proc.pid}/maps`, "utf8");
      return text.includes(`${MOUNT}/usr/bin/sleep`) && text.includes("libc.so.6") ? text : null;
    });
    const files = new Set(maps.split("\n").map((line) => line.split(/\s+/)[5] ?? "").filter((path) => path.startsWith("/")));
    expect([...files].filter((path) => /\/(libc\.so\.6|ld-linux-x86-64\.so\.2)$/.test(path)).every((path) => path.startsWith(`${MOUNT}/`))).toBe(true);
    expect([...files].some((path) => path.startsWith(`${MOUNT}/`) && path.endsWith("/libc.so.6"))).toBe(true);
  } finally {
    proc.kill("SIGKILL");
    await proc.exited;
  }
  expect(alive(proc.pid)).toBe(false);
});

test.skipIf(skipped)("writes from inside the chroot land in the upper; the image is unchanged", () => {
  const r = inRoot("echo made in the container > /root/note; echo changed >> /etc/hostname; rm /etc/hosts; cat /etc/hostname");
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe("danaus\nchanged\n");
  expect(readFileSync(backend(`${UPPER}/root/note`), "utf8")).toBe("made in the container\n");
  expect(readFileSync(backend(`${UPPER}/etc/hostname`), "utf8")).toBe("danaus\nchanged\n");
  expect(existsSync(backend(`${UPPER}/etc/.wh.hosts`))).toBe(true);
  expect(readFileSync(backend(`${LAYER}/etc/hostname`), "utf8")).toBe("danaus\n");
  expect(readFileSync(backend(`${LAYER}/etc/hosts`), "utf8")).toBe("127.0.0.1 localhost\n");
  expect(existsSync(backend(`${LAYER}/root/note`))).toBe(false);
  expect(inRoot("ls /etc").stdout).toBe("group\nhostname\nnsswitch.conf\npasswd\n");
});

test.skipIf(skipped)("rename(2) of an image directory inside the chroot works (its tree is copied up), and back", () => {
  const r = inRoot("mv /etc /etc.moved && ls /etc.moved && test ! -e /etc && cat /etc.moved/hostname && mv /etc.moved /etc && ls /etc && test ! -e /etc.moved");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const listing = "group\nhostname\nnsswitch.conf\npasswd\n";
  expect(r.stdout).toBe(`${listing}danaus\nchanged\n${listing}`);
  // In the upper: the whole directory, opaque; the image's layer is as imported.
  expect(existsSync(backend(`${UPPER}/etc/.wh..wh..opq`))).toBe(true);
  expect(readFileSync(backend(`${UPPER}/etc/passwd`), "utf8")).toBe(readFileSync(backend(`${LAYER}/etc/passwd`), "utf8"));
  expect(existsSync(backend(`${UPPER}/.wh.etc.moved`))).toBe(false);
  expect(readFileSync(backend(`${LAYER}/etc/hosts`), "utf8")).toBe("127.0.0.1 localhost\n");
});
