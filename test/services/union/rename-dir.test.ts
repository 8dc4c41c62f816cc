/**
 * @module test/services/union/rename-dir — rename(2) of a lower or merged directory: the whole tree is copied into the
 * upper (opaque) and renamed there (renameDir = "copy-up", the default), or EXDEV (renameDir = "exdev"); what it
 * leaves on disk is plain OCI-layer content that a fresh union reads back the same.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync, linkSync } from "node:fs";
import { constants } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { LocalBackend } from "../../../services/client-cache/backend/index.ts";
import { createUnionShared, UnionFileSystem, type UnionOptions } from "../../../services/union/index.ts";
import { resolveTenant } from "../../../kernel/config/index.ts";
import { attachStackMount, planMounts } from "../../../services/tenant-stack.ts";
import { expectErrno, listNames, readFile, writeFile } from "../../conformance/harness.ts";
import { hostAt } from "../../kernel/config/fixture.ts";

const { S_IFMT, S_IFIFO, S_IFLNK } = constants;

let base: string;
let backends: LocalBackend[];

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "danaus-union-rename-dir-"));
  for (const dir of ["upper", "a", "b"]) mkdirSync(join(base, dir));
  backends = [];
});

afterEach(() => {
  for (const backend of backends) backend.dispose();
  rmSync(base, { recursive: true, force: true });
});

function union(options: UnionOptions = {}): UnionFileSystem {
  const upper = new LocalBackend(join(base, "upper"));
  const lowers = ["a", "b"].map((name) => new LocalBackend(join(base, name)));
  backends.push(upper, ...lowers);
  return new UnionFileSystem({ upper, lowers }, createUnionShared(), options);
}

/** Lower a holds d/{f, sub/g, link -> f, fifo, h1 = h2 (hard links)}; lower b adds d/{below, sub/deep} and d/gone. */
function fillLowers(): void {
  const a = join(base, "a");
  const b = join(base, "b");
  mkdirSync(join(a, "d", "sub"), { recursive: true });
  writeFileSync(join(a, "d", "f"), "file f");
  writeFileSync(join(a, "d", "sub", "g"), "file g");
  symlinkSync("f", join(a, "d", "link"));
  expect(spawnSync("mkfifo", [join(a, "d", "fifo")]).status).toBe(0);
  writeFileSync(join(a, "d", "h1"), "linked");
  linkSync(join(a, "d", "h1"), join(a, "d", "h2"));
  chmodSync(join(a, "d", "f"), 0o640);
  chmodSync(join(a, "d", "sub"), 0o750);
  utimesSync(join(a, "d", "f"), 1_000_000, 1_000_000);
  utimesSync(join(a, "d", "sub"), 2_000_000, 2_000_000);
  mkdirSync(join(b, "d", "sub"), { recursive: true });
  writeFileSync(join(b, "d", "below"), "from b");
  writeFileSync(join(b, "d", "sub", "deep"), "deep b");
  writeFileSync(join(b, "d", "gone"), "deleted");
}

/** Every visible entry under `dir` with its type, mode, size, link count and content (or target). */
function tree(fs: UnionFileSystem, dir: string): string[] {
  const out: string[] = [];
  for (const name of listNames(fs, dir)) {
    const path = `${dir}/${name}`;
    const st = fs.lstat(path);
    const type = st.st_mode & S_IFMT;
    const line = `${path.slice(dir.length)} ${(st.st_mode & 0o7777).toString(8)}`;
    if (type === constants.S_IFDIR) out.push(line, ...tree(fs, path).map((entry) => `${path.slice(dir.length)}${entry}`));
    else if (type === S_IFLNK) out.push(`${line} -> ${fs.readlink(path)}`);
    else if (type === S_IFIFO) out.push(`${line} fifo`);
    else out.push(`${line} ${st.st_nlink} ${st.st_mtime_sec} ${readFile(fs, path)}`);
  }
  return out;
}

test("a lower directory is copied up whole and renamed; the old name is gone, the tree moved with its attributes", () => {
  fillLowers();
  const fs = union();
  fs.unlink("d/gone");
  const before = tree(fs, "d");
  fs.rename("d", "moved", 0);
  expectErrno("ENOENT", () => fs.stat("d"));
  expect(tree(fs, "moved")).toEqual(before);
  expect(listNames(fs, "")).toEqual(["moved"]);
  // Directories inside the tree keep their times (the copy puts them back after filling the directory).
  expect(fs.lstat("moved/sub").st_mtime_sec).toBe(2_000_000);
  expect(before).toContain("/f 640 1 1000000 file f");
  expect(before).toContain("/sub 750");
  // On disk: an ordinary opaque directory and a whiteout of the old name, as an OCI layer spells them.
  // (and the hidden index that keeps h1 and h2 one file, see hardlink.test.ts)
  expect(readdirSync(join(base, "upper")).sort()).toEqual([".wh..wh.index", ".wh.d", "moved"]);
  expect(lstatSync(join(base, "upper", "moved", "h1")).ino).toBe(lstatSync(join(base, "upper", "moved", "h2")).ino);
  expect(readdirSync(join(base, "upper", "moved"))).toContain(".wh..wh..opq");
  expect(readdirSync(join(base, "upper", "moved", "sub")).sort()).toEqual([".wh..wh..opq", "deep", "g"]);
  expect(lstatSync(join(base, "upper", "moved", "fifo")).isFIFO()).toBe(true);
  // A fresh union over the same branches reads the same tree back.
  expect(tree(union(), "moved")).toEqual(before);
});

test("the moved directory shows nothing of a lower directory that already held the new name", () => {
  fillLowers();
  mkdirSync(join(base, "b", "target"));
  writeFileSync(join(base, "b", "target", "stale"), "must stay hidden");
  const fs = union();
  fs.unlink("target/stale");
  fs.rename("d", "target", 0);
  expect(listNames(fs, "target")).toEqual(["below", "f", "fifo", "gone", "h1", "h2", "link", "sub"]);
  // Changes after the move land in the moved tree; the old name can be made anew, and is empty.
  writeFile(fs, "target/sub/new", "x");
  fs.mkdir("d", 0o755);
  expect(listNames(fs, "d")).toEqual([]);
  expect(readFile(fs, "target/sub/new")).toBe("x");
});

test("a merged directory (upper part over lower parts) moves with the upper's changes", () => {
  fillLowers();
  const fs = union();
  writeFile(fs, "d/mine", "upper file");
  fs.unlink("d/f");
  fs.rename("d/sub", "d/sub2", 0);
  fs.rename("d", "e", 0);
  expect(listNames(fs, "e")).toEqual(["below", "fifo", "gone", "h1", "h2", "link", "mine", "sub2"]);
  expect(listNames(fs, "e/sub2")).toEqual(["deep", "g"]);
  expect(readFile(fs, "e/mine")).toBe("upper file");
  expectErrno("ENOENT", () => fs.stat("d"));
  expect(listNames(union(), "e")).toEqual(["below", "fifo", "gone", "h1", "h2", "link", "mine", "sub2"]);
});

test("moving a directory inside the renamed tree, and into another lower directory, works at every depth", () => {
  fillLowers();
  mkdirSync(join(base, "a", "other"));
  const fs = union();
  fs.rename("d/sub", "other/sub", 0);
  expect(listNames(fs, "other/sub")).toEqual(["deep", "g"]);
  expect(listNames(fs, "d")).not.toContain("sub");
  fs.rename("other", "d/other", 0);
  expect(readFile(fs, "d/other/sub/deep")).toBe("deep b");
});

test('renameDir = "exdev": the same renames answer EXDEV and change nothing', () => {
  fillLowers();
  const fs = union({ renameDir: "exdev" });
  expectErrno("EXDEV", () => fs.rename("d", "moved", 0));
  expectErrno("EXDEV", () => fs.rename("d/sub", "d/sub2", 0));
  expect(readdirSync(join(base, "upper"))).toEqual([]);
  // Files and upper-only directories still move.
  fs.rename("d/f", "d/f2", 0);
  fs.mkdir("new", 0o755);
  fs.rename("new", "d/new", 0);
  expect(listNames(fs, "d")).toContain("new");
});

test("a bad renameDir is refused", () => {
  expect(() => union({ renameDir: "redirect" as never })).toThrow(RangeError);
});

test("the tenant file's renameDir reaches the union a mount serves (the stack's mount plan, then its attach)", () => {
  fillLowers();
  mkdirSync(join(base, "upper2"));
  const tenant = resolveTenant(
    {
      name: "alpha", cpus: [0], backend: { kind: "local", root: base },
      mounts: [
        { path: "/mnt/x", upper: "upper", lowers: ["a", "b"], renameDir: "exdev", legacy: false },
        { path: "/mnt/y", upper: "upper2", lowers: ["a", "b"], legacy: false },
      ],
    },
    join(base, "alpha.toml"), hostAt(base), {},
  );
  const { served } = planMounts({ tenant, group: 0, downstream: () => ({ board: new SharedArrayBuffer(8), handles: new SharedArrayBuffer(8), paths: new Set() }) });
  const storage = { backend: { kind: "local" as const, root: base }, cache: null, union: createUnionShared() };
  const [exdev, copying] = served.map((mount) => attachStackMount({ storage, union: storage.union }, mount.attach, 0)) as [UnionFileSystem, UnionFileSystem];
  expectErrno("EXDEV", () => exdev.rename("d", "moved", 0));
  copying.rename("d", "moved", 0);
  expect(listNames(copying, "")).toEqual(["moved"]);
  expect(listNames(exdev, "")).toEqual(["d"]);
});
