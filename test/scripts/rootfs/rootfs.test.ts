/** @module test/scripts/rootfs — the root-tree builder: ldd's output parsed, and a built tree that runs /bin/sh under chroot (root only). */
import { afterAll, describe, expect, test } from "bun:test";
import { lstatSync, mkdtempSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildRootfs, LddError, parseLdd, RootfsError } from "../../../scripts/rootfs/index.ts";

describe("parseLdd", () => {
  test("keeps resolved libraries and the loader, drops the vDSO", () => {
    const out = [
      "\tlinux-vdso.so.1 (0x00007ffd1c1f5000)",
      "\tlibpcre2-8.so.0 => /lib/x86_64-linux-gnu/libpcre2-8.so.0 (0x00007f7c4c6a1000)",
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f7c4c45c000)",
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f7c4c7b2000)",
    ].join("\n");
    expect(parseLdd("/usr/bin/x", out)).toEqual(["/lib/x86_64-linux-gnu/libpcre2-8.so.0", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"]);
  });

  test("a static binary has no libraries", () => {
    expect(parseLdd("/x", "\tstatically linked\n")).toEqual([]);
  });

  test("a missing library is an error naming it", () => {
    expect(() => parseLdd("/x", "\tlibgone.so.1 => not found\n")).toThrow(LddError);
    expect(() => parseLdd("/x", "\tlibgone.so.1 => not found\n")).toThrow(/libgone\.so\.1 not found/);
  });
});

describe("buildRootfs", () => {
  const base = mkdtempSync(join(tmpdir(), "danaus-rootfs-"));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  test("builds into a new directory; refuses a non-empty one and an unknown program", () => {
    buildRootfs(join(base, "tree"));
    expect(() => buildRootfs(join(base, "tree"))).toThrow(RootfsError);
    expect(() => buildRootfs(join(base, "other"), { programs: ["no-such-program-here"] })).toThrow(/no program "no-such-program-here"/);
  });

  test("keeps the host's symlinks and copies the loader", () => {
    const dir = join(base, "tree");
    expect(readlinkSync(join(dir, "usr/bin/sh"))).toBe(readlinkSync("/usr/bin/sh"));
    expect(lstatSync(join(dir, "lib64/ld-linux-x86-64.so.2")).isSymbolicLink() || lstatSync(join(dir, "lib64/ld-linux-x86-64.so.2")).isFile()).toBe(true);
    expect(lstatSync(join(dir, "tmp")).mode & 0o7777).toBe(0o1777);
  });

  test.skipIf(process.getuid?.() !== 0)("the tree runs its shell and programs under chroot", () => {
    const r = Bun.spawnSync(["chroot", join(base, "tree"), "/bin/sh", "-c", "echo hi | sha256sum; ls /etc; id -un"], { stdout: "pipe", stderr: "pipe" });
    expect(r.stderr.toString()).toBe("");
    expect(r.stdout.toString()).toBe(`${new Bun.CryptoHasher("sha256").update("hi\n").digest("hex")}  -\ngroup\nhostname\nhosts\nnsswitch.conf\npasswd\nroot\n`);
  });
});
