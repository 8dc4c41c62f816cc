/**
 * @module test/services/fuse-legacy/rename-flags — RENAME2 through the kernel: renameat2(2) with RENAME_NOREPLACE and
 * RENAME_EXCHANGE on a FUSE mount of a LocalBackend (which has both), through the real kernel FUSE, as root. node:fs
 * has no renameat2, so the conformance suite through the mount cannot reach these flags; this calls the syscall.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AT, errno, fileCalls } from "../../../kernel/sys/libc.ts";
import type { FuseServer } from "../../../services/fuse-legacy/server/index.ts";
import { ERRNO } from "../../../kernel/ipc/protocol/index.ts";
import { mountTestsSkipped, serveLocalBackend } from "./fixtures/mount-support.ts";

const skipped = mountTestsSkipped(import.meta.path);
const RENAME_NOREPLACE = 1;
const RENAME_EXCHANGE = 2;

/** renameat2(AT_FDCWD, from, AT_FDCWD, to, flags): 0 or the errno. */
function renameat2(from: string, to: string, flags: number): number {
  const result = fileCalls.renameat2(AT.FDCWD, Buffer.from(`${from}\0`), AT.FDCWD, Buffer.from(`${to}\0`), flags);
  return result === 0 ? 0 : errno();
}

describe.skipIf(skipped !== undefined)("renameat2 flags through the FUSE mount", () => {
  let base = "";
  let mnt = "";
  let server: FuseServer | undefined;
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), "danaus-fuse-rename2-"));
    mnt = join(base, "mnt");
    mkdirSync(mnt);
    server = await serveLocalBackend(mnt, join(base, "backing"), { attrTimeoutMs: 0, entryTimeoutMs: 0 });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(base, { recursive: true, force: true });
  });

  test("RENAME_NOREPLACE: EEXIST over an existing name (both kept); onto a new name it moves", () => {
    writeFileSync(join(mnt, "a"), "A");
    writeFileSync(join(mnt, "b"), "B");
    expect(renameat2(join(mnt, "a"), join(mnt, "b"), RENAME_NOREPLACE)).toBe(ERRNO.EEXIST);
    expect(readFileSync(join(mnt, "a"), "utf8")).toBe("A");
    expect(readFileSync(join(mnt, "b"), "utf8")).toBe("B");
    expect(renameat2(join(mnt, "a"), join(mnt, "c"), RENAME_NOREPLACE)).toBe(0);
    expect(readFileSync(join(mnt, "c"), "utf8")).toBe("A");
    expect(() => statSync(join(mnt, "a"))).toThrow();
  });

  test("RENAME_EXCHANGE swaps a file and a directory (with what is under it); a missing side: ENOENT", () => {
    writeFileSync(join(mnt, "file"), "content");
    mkdirSync(join(mnt, "dir"));
    writeFileSync(join(mnt, "dir", "inside"), "below");
    expect(renameat2(join(mnt, "file"), join(mnt, "dir"), RENAME_EXCHANGE)).toBe(0);
    expect(statSync(join(mnt, "file")).isDirectory()).toBe(true);
    expect(readFileSync(join(mnt, "file", "inside"), "utf8")).toBe("below");
    expect(readFileSync(join(mnt, "dir"), "utf8")).toBe("content");
    expect(renameat2(join(mnt, "dir"), join(mnt, "nothing"), RENAME_EXCHANGE)).toBe(ERRNO.ENOENT);
  });
});
