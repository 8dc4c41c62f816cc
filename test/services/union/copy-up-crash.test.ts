/** @module test/services/union/copy-up-crash — a copy-up killed mid-copy leaves the lower view, never a partial file or a visible temp name. */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend } from "../../../services/client-cache/backend/index.ts";
import type { FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import { createUnionShared, UnionFileSystem } from "../../../services/union/index.ts";
import { O_DIRECTORY, O_RDONLY, readBytes } from "../../conformance/harness.ts";

const SIZE = 64 << 20;
const base = mkdtempSync(join(tmpdir(), "danaus-union-crash-"));
const upperRoot = join(base, "upper");
const lowerRoot = join(base, "lower");
const child = join(import.meta.dir, "copy-up-crash-child.ts");

afterAll(() => rmSync(base, { recursive: true, force: true }));

function content(): Uint8Array {
  const data = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i += 4096) data.fill((i >>> 12) & 0xff, i, i + 4096);
  return data;
}

function names(fs: FileSystem, path: string): string[] {
  const fd = fs.open(path, O_RDONLY | O_DIRECTORY, 0);
  try {
    const out: string[] = [];
    for (let cookie = 0; ; ) {
      const batch = fs.readdir(fd, cookie);
      if (batch.length === 0) return out.sort();
      out.push(...batch.map((entry) => entry.name));
      cookie = batch[batch.length - 1]!.next;
    }
  } finally {
    fs.close(fd);
  }
}

/** The size of the copy-up temp file in the upper's `dir`, or -1 while there is none. */
function tempSize(): number {
  try {
    for (const name of readdirSync(join(upperRoot, "dir"))) if (name.startsWith(".wh..wh.copyup.")) return statSync(join(upperRoot, "dir", name)).size;
  } catch {
    // The upper directory is not copied up yet.
  }
  return -1;
}

function freshUnion(): { fs: UnionFileSystem; dispose(): void } {
  const upper = new LocalBackend(upperRoot);
  const lower = new LocalBackend(lowerRoot);
  return { fs: new UnionFileSystem({ upper, lowers: [lower] }, createUnionShared()), dispose: () => (upper.dispose(), lower.dispose()) };
}

test("SIGKILL mid copy-up: the old lower content, then a complete copy-up", async () => {
  const original = content();
  mkdirSync(join(lowerRoot, "dir"), { recursive: true });
  writeFileSync(join(lowerRoot, "dir", "big"), original);
  mkdirSync(upperRoot, { recursive: true });

  const killed = Bun.spawn([process.execPath, child, upperRoot, lowerRoot, "dir/big"], { stdout: "pipe", stderr: "inherit" });
  const deadline = Date.now() + 20_000;
  let seen = -1;
  while (seen < 8 << 20 && Date.now() < deadline) {
    await Bun.sleep(2);
    seen = tempSize();
  }
  killed.kill("SIGKILL");
  expect(await killed.exited).not.toBe(0);
  expect(seen).toBeGreaterThanOrEqual(8 << 20);
  expect(seen).toBeLessThan(SIZE);

  const after = freshUnion();
  try {
    expect(names(after.fs, "dir")).toEqual(["big"]);
    expect(after.fs.stat("dir/big").st_size).toBe(SIZE);
    expect(Bun.hash(readBytes(after.fs, "dir/big"))).toBe(Bun.hash(original));
  } finally {
    after.dispose();
  }

  const finished = Bun.spawn([process.execPath, child, upperRoot, lowerRoot, "dir/big"], { stdout: "pipe", stderr: "inherit" });
  expect(await finished.exited).toBe(0);
  expect(statSync(join(upperRoot, "dir", "big")).size).toBe(SIZE);
  const complete = freshUnion();
  try {
    expect(names(complete.fs, "dir")).toEqual(["big"]);
    expect(Bun.hash(readBytes(complete.fs, "dir/big"))).toBe(Bun.hash(original));
    // The temp name the killed copy left behind is still there, and never listed.
    expect(readdirSync(join(upperRoot, "dir")).some((name) => name.startsWith(".wh..wh.copyup."))).toBe(true);
  } finally {
    complete.dispose();
  }
}, 30_000);
