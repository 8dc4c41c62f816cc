/** @module test/conformance/cases/readdir — batched directory listing with cookies: completeness, types, restarts, errno cases. */
import { describe, expect } from "bun:test";
import { DT, type Dirent, type FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import { expectErrno, O_CREAT, O_DIRECTORY, O_RDONLY, O_WRONLY, writeFile, type Suite } from "../harness.ts";

/**
 * Lists the open directory `fd` from `cookie`, taking at most `take` entries of each batch and continuing from the
 * last one taken, as a client with a small reply buffer does. Stops at the first empty batch.
 */
function listAll(fs: FileSystem, fd: number, take = Infinity, cookie = 0): Dirent[] {
  const out: Dirent[] = [];
  for (let batches = 0; batches < 100_000; batches++) {
    const batch = fs.readdir(fd, cookie);
    if (batch.length === 0) return out;
    const taken = batch.slice(0, take);
    out.push(...taken);
    cookie = taken[taken.length - 1]!.next;
  }
  throw new Error("readdir never returned an empty batch");
}

/** Lists the directory at `path` in full. */
function listPath(fs: FileSystem, path: string, take = Infinity): Dirent[] {
  const fd = fs.open(path, O_RDONLY | O_DIRECTORY, 0);
  try {
    return listAll(fs, fd, take);
  } finally {
    fs.close(fd);
  }
}

/** Creates 600 entries in `dir`: files, directories and (when supported) symlinks; returns name → DT type. */
function populate(fs: FileSystem, dir: string, symlinks: boolean): Map<string, number> {
  const expected = new Map<string, number>();
  for (let i = 0; i < 600; i++) {
    const name = `entry-${i.toString().padStart(4, "0")}-${"x".repeat(i % 40)}`;
    if (i % 12 === 0) {
      fs.mkdir(`${dir}/${name}`, 0o755);
      expected.set(name, DT.DIR);
    } else if (i % 12 === 1 && symlinks) {
      fs.symlink("target", `${dir}/${name}`);
      expected.set(name, DT.LNK);
    } else {
      fs.close(fs.open(`${dir}/${name}`, O_CREAT | O_WRONLY, 0o644));
      expected.set(name, DT.REG);
    }
  }
  return expected;
}

function expectListing(entries: readonly Dirent[], expected: ReadonlyMap<string, number>): void {
  const names = entries.map((entry) => entry.name);
  expect(names).not.toContain(".");
  expect(names).not.toContain("..");
  expect(new Set(names).size).toBe(names.length);
  expect(names.length).toBe(expected.size);
  for (const entry of entries) expect([entry.name, entry.type]).toEqual([entry.name, expected.get(entry.name)!]);
}

/** Registers the readdir cases. */
export function readdirCases({ it, caps }: Suite): void {
  describe("readdir", () => {
    it("an empty directory: the first batch is empty", (fs) => {
      fs.mkdir("d", 0o755);
      const fd = fs.open("d", O_RDONLY | O_DIRECTORY, 0);
      expect(fs.readdir(fd, 0)).toEqual([]);
      fs.close(fd);
    });

    it("600 entries: each name once, with its type, no \".\" or \"..\"", (fs) => {
      fs.mkdir("d", 0o755);
      const expected = populate(fs, "d", caps.symlinks);
      expectListing(listPath(fs, "d"), expected);
    });

    it("continuing from any entry's cookie lists what follows it, once", (fs) => {
      fs.mkdir("d", 0o755);
      const expected = populate(fs, "d", caps.symlinks);
      expectListing(listPath(fs, "d", 37), expected);
      expectListing(listPath(fs, "d", 1), expected);
    });

    it("cookie 0 starts over, also after the end", (fs) => {
      fs.mkdir("d", 0o755);
      for (const name of ["a", "b", "c"]) writeFile(fs, `d/${name}`, "");
      const fd = fs.open("d", O_RDONLY | O_DIRECTORY, 0);
      const first = listAll(fs, fd);
      expect(first.map((e) => e.name).sort()).toEqual(["a", "b", "c"]);
      expect(listAll(fs, fd).map((e) => e.name).sort()).toEqual(["a", "b", "c"]);
      const last = first[first.length - 1]!;
      expect(fs.readdir(fd, last.next)).toEqual([]);
      fs.close(fd);
    });

    it("the root lists what was created in it", (fs) => {
      writeFile(fs, "f", "");
      fs.mkdir("d", 0o755);
      const entries = listPath(fs, "/");
      expect(entries.map((e) => [e.name, e.type]).sort()).toEqual([["d", DT.DIR], ["f", DT.REG]]);
      expect(listPath(fs, "").length).toBe(2);
    });

    it("entries carry their inode numbers", (fs) => {
      writeFile(fs, "f", "");
      const [entry] = listPath(fs, "/");
      expect(entry!.ino).toBe(fs.lstat("f").st_ino);
    });

    it("a file handle: ENOTDIR; a closed handle: EBADF", (fs) => {
      writeFile(fs, "f", "");
      const file = fs.open("f", O_RDONLY, 0);
      expectErrno("ENOTDIR", () => fs.readdir(file, 0));
      fs.close(file);
      fs.mkdir("d", 0o755);
      const dir = fs.open("d", O_RDONLY | O_DIRECTORY, 0);
      fs.close(dir);
      expectErrno("EBADF", () => fs.readdir(dir, 0));
    });
  });
}
