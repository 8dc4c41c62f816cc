/**
 * @module test/services/fuse-legacy/invalidate — FuseServer.invalidate (FUSE_NOTIFY_INVAL_INODE): a file changed
 * behind the kernel's back (here: written in the served directory itself) shows its new bytes in a process's shared
 * mapping, and its new size to stat, once the server invalidates its node; until then the mapping keeps its pages.
 * FuseServer.invalidateNames (FUSE_NOTIFY_INVAL_ENTRY): a name created, removed or renamed behind the kernel's back
 * shows through the mount as soon as the server is told, while the kernel would otherwise keep its entries (and its
 * cached absences) for a minute; names are bytes. Skipped with a printed reason when not root or without /dev/fuse
 * (failed under CI=true).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FuseServer } from "../../../services/fuse-legacy/server/index.ts";
import { mapShared } from "./fixtures/mapping-reader.ts";
import { mountTestsSkipped, serveLocalBackend, stopAndRemove } from "./fixtures/mount-support.ts";

const skipped = mountTestsSkipped("invalidate.test.ts");
const base = mkdtempSync(join(tmpdir(), "danaus-fuse-inval-"));
const mountPoint = join(base, "mnt");
const served = join(base, "root");
let server: FuseServer | undefined;

beforeAll(async () => {
  if (skipped !== undefined) return;
  mkdirSync(mountPoint);
  // A minute of caching: only a notification makes a change behind the kernel's back visible within a test.
  server = await serveLocalBackend(mountPoint, served, { directIo: true, attrTimeoutMs: 60_000, entryTimeoutMs: 60_000, negativeTimeoutMs: 60_000 });
});
afterAll(() => stopAndRemove(server, mountPoint, base));

test.skipIf(skipped !== undefined)("a shared mapping and stat show a change made behind the kernel's back once its node is invalidated, through any name", async () => {
  writeFileSync(join(mountPoint, "f"), "0123456789");
  linkSync(join(mountPoint, "f"), join(mountPoint, "g"));
  const reader = mapShared(join(mountPoint, "g"), 10);
  try {
    expect(await reader.read()).toBe("0123456789");
    // Behind the kernel's back: the served file itself.
    writeFileSync(join(served, "f"), "abcdefghijKLM");
    // No request reaches the server for the mapping's pages: they stay as they were.
    expect(await reader.read()).toBe("0123456789");
    expect(server!.invalidate([lstatSync(join(served, "f"), {})].map((st) => ({ st_dev: st.dev, st_ino: st.ino })))).toBe(1);
    expect(await reader.read()).toBe("abcdefghij");
    expect(statSync(join(mountPoint, "g")).size).toBe(13);
    // A file the kernel holds no node of is skipped.
    expect(server!.invalidate([{ st_dev: 1, st_ino: 999_999_999 }])).toBe(0);
  } finally {
    reader.close();
  }
});

/** `dir`/`name` as bytes (`name` a byte string: one char per byte, not UTF-8). */
const at = (dir: string, ...names: string[]): Buffer => Buffer.concat([Buffer.from(dir), ...names.map((n) => Buffer.from(`/${n}`, "latin1"))]);
/** The inode of a served file. */
const key = (path: Buffer) => {
  const st = lstatSync(path);
  return { st_dev: st.dev, st_ino: st.ino };
};

test.skipIf(skipped !== undefined)("a name created behind the kernel's back shows at once once told, though its absence was cached", () => {
  for (const name of ["created", "cr\xe9\xff\x80"]) {
    expect(existsSync(at(mountPoint, name))).toBe(false);
    writeFileSync(at(served, name), "new");
    // The kernel remembers the absence for a minute: nothing reaches the server.
    expect(existsSync(at(mountPoint, name))).toBe(false);
    expect(server!.invalidateNames([{ kind: "added", path: `/${name}`, st_dev: 0, st_ino: 0 }])).toBeGreaterThan(0);
    expect(statSync(at(mountPoint, name)).size).toBe(3);
  }
});

test.skipIf(skipped !== undefined)("a name removed behind the kernel's back is gone at once once told, and the file's other name shows one link", () => {
  mkdirSync(at(served, "d\xfe"));
  writeFileSync(at(served, "d\xfe", "one\xff"), "x");
  linkSync(at(served, "d\xfe", "one\xff"), at(served, "d\xfe", "two"));
  expect(statSync(at(mountPoint, "d\xfe", "one\xff")).nlink).toBe(2);
  expect(statSync(at(mountPoint, "d\xfe", "two")).nlink).toBe(2);
  const file = key(at(served, "d\xfe", "one\xff"));
  unlinkSync(at(served, "d\xfe", "one\xff"));
  expect(statSync(at(mountPoint, "d\xfe", "two")).nlink).toBe(2);
  expect(existsSync(at(mountPoint, "d\xfe", "one\xff"))).toBe(true);
  server!.invalidateNames([{ kind: "removed", path: "/d\xfe/one\xff", ...file }]);
  expect(existsSync(at(mountPoint, "d\xfe", "one\xff"))).toBe(false);
  expect(statSync(at(mountPoint, "d\xfe", "two")).nlink).toBe(1);
});

test.skipIf(skipped !== undefined)("a rename behind the kernel's back, over another file, shows at once once told: old name gone, new name the moved file", () => {
  writeFileSync(at(served, "from\x80"), "moved");
  writeFileSync(at(served, "to"), "replaced");
  linkSync(at(served, "to"), at(served, "to-too"));
  const moving = statSync(at(mountPoint, "from\x80"));
  expect(statSync(at(mountPoint, "to")).size).toBe(8);
  expect(statSync(at(mountPoint, "to-too")).nlink).toBe(2);
  const replaced = key(at(served, "to"));
  renameSync(at(served, "from\x80"), at(served, "to"));
  expect(existsSync(at(mountPoint, "from\x80"))).toBe(true);
  server!.invalidateNames([{ kind: "moved", path: "/from\x80", to: "/to", ...key(at(served, "to")) }]);
  server!.invalidate([replaced]);
  expect(existsSync(at(mountPoint, "from\x80"))).toBe(false);
  const now = statSync(at(mountPoint, "to"));
  expect([now.ino, now.size]).toEqual([moving.ino, 5]);
  expect(statSync(at(mountPoint, "to-too")).nlink).toBe(1);
  // A name in a directory the kernel holds no node of, and an entry it never cached, are skipped.
  expect(server!.invalidateNames([{ kind: "added", path: "/nowhere/x", st_dev: 0, st_ino: 0 }])).toBe(0);
});
