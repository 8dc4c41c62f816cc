/**
 * @module test/services/union/hardlink — a hard-linked lower file stays one file across copy-up (as overlayfs with
 * index=on): every name shows the copy (content, mode, one st_ino) and st_nlink counts the union's names; a fresh
 * union reads the index back the same; a copy-up killed while making the index leaves the lower view.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend } from "../../../services/client-cache/backend/index.ts";
import { AT_SYMLINK_NOFOLLOW } from "../../../kernel/ipc/protocol/index.ts";
import { createUnionShared, UnionFileSystem } from "../../../services/union/index.ts";
import type { UnionWorkerReply, UnionWorkerRequest } from "./union-worker.ts";
import { expectErrno, listNames, O_RDONLY, O_WRONLY, readFile, bytes } from "../../conformance/harness.ts";

let base: string;
let backends: LocalBackend[];

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "danaus-union-hardlink-"));
  const lower = join(base, "lower");
  mkdirSync(join(lower, "d"), { recursive: true });
  writeFileSync(join(lower, "a"), "hi\n");
  linkSync(join(lower, "a"), join(lower, "b"));
  linkSync(join(lower, "a"), join(lower, "d", "c"));
  writeFileSync(join(lower, "p"), "p\n");
  linkSync(join(lower, "p"), join(lower, "q"));
  mkdirSync(join(base, "upper"));
  backends = [];
});

afterEach(() => {
  for (const backend of backends) backend.dispose();
  rmSync(base, { recursive: true, force: true });
});

function union(): UnionFileSystem {
  const upper = new LocalBackend(join(base, "upper"));
  const lower = new LocalBackend(join(base, "lower"));
  backends.push(upper, lower);
  return new UnionFileSystem({ upper, lowers: [lower] }, createUnionShared());
}

/** name → "mode nlink content" and whether all the names share one st_ino. */
function names(fs: UnionFileSystem, paths: string[]): { lines: string[]; oneInode: boolean } {
  const stats = paths.map((path) => fs.lstat(path));
  const lines = paths.map((path, i) => `${path} ${(stats[i]!.st_mode & 0o7777).toString(8)} ${stats[i]!.st_nlink} ${readFile(fs, path)}`);
  return { lines, oneInode: new Set(stats.map((st) => st.st_ino)).size === 1 };
}

function append(fs: UnionFileSystem, path: string, text: string): void {
  const fd = fs.open(path, O_WRONLY, 0);
  try {
    fs.pwrite(fd, bytes(text), fs.fstat(fd).st_size);
  } finally {
    fs.close(fd);
  }
}

test("chmod, unlink, link, write and a directory rename through different names keep one file (the overlayfs index=on numbers)", () => {
  const fs = union();
  expect(names(fs, ["a", "b", "d/c"])).toEqual({ lines: ["a 644 3 hi\n", "b 644 3 hi\n", "d/c 644 3 hi\n"], oneInode: true });
  fs.chmod("b", 0o600);
  expect(names(fs, ["a", "b", "d/c"])).toEqual({ lines: ["a 600 3 hi\n", "b 600 3 hi\n", "d/c 600 3 hi\n"], oneInode: true });
  fs.unlink("a");
  expectErrno("ENOENT", () => fs.stat("a"));
  expect(names(fs, ["b", "d/c"])).toEqual({ lines: ["b 600 2 hi\n", "d/c 600 2 hi\n"], oneInode: true });
  fs.link("b", "e");
  expect(names(fs, ["b", "d/c", "e"]).lines.map((line) => line.split(" ")[2])).toEqual(["3", "3", "3"]);
  append(fs, "d/c", "more\n");
  expect(names(fs, ["b", "d/c", "e"])).toEqual({ lines: ["b 600 3 hi\nmore\n", "d/c 600 3 hi\nmore\n", "e 600 3 hi\nmore\n"], oneInode: true });
  fs.rename("d", "d2", 0);
  const after = names(fs, ["b", "d2/c", "e"]);
  expect(after.oneInode).toBe(true);
  expect(after.lines).toEqual(["b 600 3 hi\nmore\n", "d2/c 600 3 hi\nmore\n", "e 600 3 hi\nmore\n"]);
  // The fstat of a handle counts the same names.
  const fd = fs.open("e", O_RDONLY, 0);
  expect(fs.fstat(fd).st_nlink).toBe(3);
  fs.close(fd);
  // Restart: a fresh union over the same branches reads the index back.
  expect(names(union(), ["b", "d2/c", "e"])).toEqual(after);
  // The index is hidden: never listed, and the lower is never written.
  expect(listNames(fs, "")).toEqual(["b", "d2", "e", "p", "q"]);
  expect(lstatSync(join(base, "lower", "a")).nlink).toBe(3);
  expect(lstatSync(join(base, "lower", "a")).mode & 0o777).toBe(0o644);
});

test("unlinking a lower name before any copy-up: the other names count one link fewer", () => {
  const fs = union();
  fs.unlink("p");
  expect(names(fs, ["q"])).toEqual({ lines: ["q 644 1 p\n"], oneInode: true });
  expect(names(union(), ["q"]).lines).toEqual(["q 644 1 p\n"]);
});

test("renaming a lower name, and renaming over one, keep the count; renaming one name onto another is a no-op", () => {
  const fs = union();
  fs.rename("a", "a2", 0);
  expect(names(fs, ["a2", "b", "d/c"])).toMatchObject({ oneInode: true });
  expect(fs.lstat("b").st_nlink).toBe(3);
  fs.rename("p", "b", 0);
  expect(fs.lstat("a2").st_nlink).toBe(2);
  expect(readFile(fs, "b")).toBe("p\n");
  expect(fs.lstat("b").st_nlink).toBe(2);
  fs.rename("q", "b", 0);
  expect(listNames(fs, "")).toContain("q");
});

test("on disk: the index entry holds the copy and one placeholder link per lower name still showing it", () => {
  const fs = union();
  fs.chmod("b", 0o640);
  const index = join(base, "upper", ".wh..wh.index");
  const entry = readdirSync(index).find((name) => !name.startsWith("u.") && !name.startsWith(".wh."))!;
  expect(entry).toBe(`1.${lstatSync(join(base, "lower", "a")).ino}`);
  const inEntry = readdirSync(join(index, entry));
  expect(inEntry).toContain("data");
  expect(inEntry.filter((name) => /^[0-9]+$/.test(name)).length).toBe(2);
  expect(lstatSync(join(base, "upper", "b")).ino).toBe(lstatSync(join(index, entry, "data")).ino);
  expect(lstatSync(join(base, "upper", "b")).nlink).toBe(4);
  // The reverse symlink names the entry by the copy's inode.
  const reverse = readdirSync(index).filter((name) => name.startsWith("u."));
  expect(reverse).toEqual([`u.${lstatSync(join(base, "upper", "b")).ino}`]);
});

test("SIGKILL while the index entry is made: the lower view; run again, one file", async () => {
  const child = join(import.meta.dir, "rename-dir-crash-child.ts");
  const upper = join(base, "upper");
  const lower = join(base, "lower");
  const proc = Bun.spawn([process.execPath, child, upper, lower, "a", "a2", "read:a"], { stdout: "pipe", stderr: "inherit" });
  let said = "";
  for await (const chunk of proc.stdout) {
    said += new TextDecoder().decode(chunk);
    if (said.includes("stuck") || said.includes("done")) break;
  }
  proc.kill("SIGKILL");
  await proc.exited;
  expect(said).toContain("stuck");
  // The killed copy left a temp entry in the index directory, which counts for nothing.
  expect(readdirSync(join(upper, ".wh..wh.index")).some((name) => name.startsWith(".wh..wh.copyup."))).toBe(true);
  expect(names(union(), ["a", "b", "d/c"])).toEqual({ lines: ["a 644 3 hi\n", "b 644 3 hi\n", "d/c 644 3 hi\n"], oneInode: true });
  const again = Bun.spawn([process.execPath, child, upper, lower, "a", "a2", "none"], { stdout: "pipe", stderr: "inherit" });
  expect(await again.exited).toBe(0);
  const fs = union();
  expectErrno("ENOENT", () => fs.stat("a"));
  expect(names(fs, ["a2", "b", "d/c"])).toEqual({ lines: ["a2 644 3 hi\n", "b 644 3 hi\n", "d/c 644 3 hi\n"], oneInode: true });
}, 60_000);

test("a hard-linked lower symlink stays one symlink: chown of one name shows on the other, the count holds", () => {
  symlinkSync("a", join(base, "lower", "s1"));
  linkSync(join(base, "lower", "s1"), join(base, "lower", "s2"));
  const fs = union();
  expect(fs.lstat("s2").st_nlink).toBe(2);
  fs.chown("s1", 123, 456, AT_SYMLINK_NOFOLLOW);
  const [s1, s2] = [fs.lstat("s1"), fs.lstat("s2")];
  expect([s1.st_uid, s2.st_uid, s1.st_nlink, s2.st_nlink, s1.st_ino === s2.st_ino]).toEqual([123, 123, 2, 2, true]);
  expect(fs.readlink("s2")).toBe("a");
  expect(readFile(fs, "s2")).toBe("hi\n");
  fs.unlink("s1");
  expect(fs.lstat("s2").st_nlink).toBe(1);
});

test("two threads copying up different names of the same hard-linked files at once: one index entry each, both writes kept", async () => {
  const lower = join(base, "lower");
  const count = 40;
  for (let i = 0; i < count; i++) {
    writeFileSync(join(lower, `x${i}`), Buffer.alloc(64 << 10, 0x2e));
    linkSync(join(lower, `x${i}`), join(lower, `y${i}`));
  }
  const shared = createUnionShared();
  const start = new SharedArrayBuffer(4);
  const run = (paths: string[], byte: number, offset: number) => {
    const worker = new Worker(new URL("./union-worker.ts", import.meta.url).href);
    return new Promise<UnionWorkerReply>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<UnionWorkerReply>) => resolve(event.data);
      worker.onerror = (event) => reject(new Error(event.message));
      const request: UnionWorkerRequest = { kind: "race", upper: join(base, "upper"), lowers: [lower], shared, paths, byte, offset, start };
      worker.postMessage(request);
    }).finally(() => worker.terminate());
  };
  const xs = Array.from({ length: count }, (_, i) => `x${i}`);
  const replies = [run(xs, 0x41, 0), run(xs.map((x) => x.replace("x", "y")), 0x42, 1)];
  Atomics.store(new Int32Array(start), 0, 1);
  Atomics.notify(new Int32Array(start), 0);
  for (const reply of await Promise.all(replies)) if (!reply.ok) throw new Error(reply.error);
  const fs = union();
  for (let i = 0; i < count; i++) {
    const [x, y] = [fs.lstat(`x${i}`), fs.lstat(`y${i}`)];
    expect([x.st_ino === y.st_ino, x.st_nlink, y.st_nlink]).toEqual([true, 2, 2]);
    expect(readFile(fs, `y${i}`).slice(0, 3)).toBe("AB.");
  }
  const entries = readdirSync(join(base, "upper", ".wh..wh.index")).filter((name) => /^1\.[0-9]+$/.test(name));
  expect(entries.length).toBe(count);
});
