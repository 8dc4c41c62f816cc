/**
 * @module test/services/fuse-legacy/invalidate — FuseServer.invalidate (FUSE_NOTIFY_INVAL_INODE): a file changed
 * behind the kernel's back (here: written in the served directory itself) shows its new bytes in a process's shared
 * mapping, and its new size to stat, once the server invalidates its node; until then the mapping keeps its pages.
 * Skipped with a printed reason when not root or without /dev/fuse (failed under CI=true).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { linkSync, lstatSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
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
  server = await serveLocalBackend(mountPoint, served, { directIo: true, attrTimeoutMs: 1000, entryTimeoutMs: 1000 });
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
