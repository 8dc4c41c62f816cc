/** @module test/scripts/ceph — the cluster script: its conf, its CLI's errors, status of an absent cluster, and an idempotent `up` on the real one. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderConf } from "../../scripts/ceph/conf.ts";
import { status } from "../../scripts/ceph/index.ts";
import { clusterDirOf, testCephConf } from "../ceph.ts";

const MAIN = join(import.meta.dir, "..", "..", "scripts", "ceph", "main.ts");

function cli(args: string[]) {
  const r = Bun.spawnSync([process.execPath, MAIN, ...args], { stdout: "pipe", stderr: "pipe", timeout: 120_000 });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

describe("ceph.conf", () => {
  const text = renderConf({ dir: "/x", fsid: "f", monPort: 3300, objectstore: "bluestore", bluestoreBytes: 1 << 30, osdMemoryBytes: 1 << 30 });
  const global = text.slice(text.indexOf("[global]"), text.indexOf("[mon]"));

  test("binds to loopback only, without auth", () => {
    expect(global).toContain("mon host = [v2:127.0.0.1:3300,v1:127.0.0.1:6789]");
    expect(global).toContain("public addr = 127.0.0.1");
    expect(global).toContain("ms bind ipv6 = false");
    expect(global).toContain("auth client required = none");
  });

  test("keeps pid files and admin sockets out of [global], where clients would share them", () => {
    expect(global).not.toContain("pid file");
    expect(global).not.toContain("admin socket");
    expect(text.match(/pid file = /g)?.length).toBe(4);
  });

  test("names the objectstore and another port pair", () => {
    const mem = renderConf({ dir: "/x", fsid: "f", monPort: 3400, objectstore: "memstore", bluestoreBytes: 1 << 30, osdMemoryBytes: 1 << 30 });
    expect(mem).toContain("osd objectstore = memstore");
    expect(mem).toContain("[v2:127.0.0.1:3400,v1:127.0.0.1:3401]");
  });
});

describe("the ceph CLI", () => {
  test("an unknown command or option is refused with the usage", () => {
    const bad = cli(["sideways"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("expected exactly one command");
    expect(bad.err).toContain("usage: bun run ceph");
    const store = cli(["up", "--objectstore", "filestore"]);
    expect(store.code).toBe(2);
    expect(store.err).toContain("--objectstore must be one of bluestore, memstore");
  });

  test("status of a directory holding no cluster says stopped and exits 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "danaus-ceph-none-"));
    try {
      const s = status(dir);
      expect(s.conf).toBeNull();
      expect(s.usable).toBe(false);
      expect(s.daemons.every((d) => d.pid === null)).toBe(true);
      const r = cli(["status", "--dir", dir]);
      expect(r.code).toBe(1);
      expect(r.out).toContain("not usable");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const conf = testCephConf("test/scripts/ceph.test.ts");
describe.skipIf(conf === null)("the running test cluster", () => {
  test("up again is idempotent: every daemon is already running, same pids", () => {
    const dir = clusterDirOf(conf!);
    const before = status(dir);
    expect(before.usable).toBe(true);
    const r = cli(["up", "--dir", dir]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("already running");
    expect(r.out.trim().split("\n").at(-1)).toBe(conf!);
    expect(status(dir).daemons).toEqual(before.daemons);
  }, 120_000);
});
