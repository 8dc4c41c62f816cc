/** @module test/kernel/sys/mounts — telling a mount point from a plain directory. */
import { expect, test } from "bun:test";
import { mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMountPoint } from "../../../kernel/sys/mounts.ts";

test("/ and /proc are mount points; a fresh directory is not", () => {
  expect(isMountPoint("/")).toBe(true);
  expect(isMountPoint("/proc")).toBe(true);
  const dir = mkdtempSync(join(tmpdir(), "danaus mount "));
  try {
    expect(isMountPoint(dir)).toBe(false);
  } finally {
    rmdirSync(dir);
  }
});
