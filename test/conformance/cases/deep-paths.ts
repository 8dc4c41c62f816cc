/**
 * @module test/conformance/cases/deep-paths — paths longer than one syscall argument (PATH_MAX), and longer than a
 * request window carries (DANAUS_PATH_MAX, staged through a client): a directory chain made one level at a time, used,
 * renamed in the middle and removed.
 */
import { describe, expect } from "bun:test";
import { DANAUS_PATH_MAX, PATH_MAX } from "../../../kernel/ipc/protocol/index.ts";
import { expectErrno, listNames, O_CREAT, O_WRONLY, readFile, writeFile, type Suite } from "../harness.ts";

/** Names of a chain `bytes` long at least: 200-byte names, numbered so that each is distinct. */
export function chainNames(bytes: number): string[] {
  return Array.from({ length: Math.ceil(bytes / 201) }, (_, i) => `${String(i).padStart(3, "0")}${"d".repeat(197)}`);
}

/** Registers the deep path cases. */
export function deepPathCases({ it }: Suite): void {
  describe("paths deeper than PATH_MAX", () => {
    it("a 12,000-byte chain made one level at a time is listed, holds a file, is renamed in the middle and removed", (fs) => {
      const names = chainNames(12_000);
      const paths: string[] = [];
      for (const name of names) {
        paths.push(paths.length === 0 ? name : `${paths.at(-1)}/${name}`);
        fs.mkdir(paths.at(-1)!, 0o755);
      }
      const bottom = paths.at(-1)!;
      expect(bottom.length).toBeGreaterThan(12_000);
      writeFile(fs, `${bottom}/f`, "deep");
      expect(readFile(fs, `${bottom}/f`)).toBe("deep");
      expect(fs.stat(`${bottom}/f`).st_size).toBe(4);
      expect(fs.lstat(bottom).st_mode & 0o170000).toBe(0o040000);
      expect(listNames(fs, bottom)).toEqual(["f"]);
      expect(listNames(fs, paths[30]!)).toEqual([names[31]!]);
      // 255 bytes is the longest name, at any depth.
      writeFile(fs, `${bottom}/${"n".repeat(255)}`, "x");
      expect(readFile(fs, `${bottom}/${"n".repeat(255)}`)).toBe("x");
      expectErrno("ENAMETOOLONG", () => fs.open(`${bottom}/${"n".repeat(256)}`, O_CREAT | O_WRONLY, 0o644));
      expectErrno("ENAMETOOLONG", () => fs.mkdir(`${bottom}/${"n".repeat(256)}`, 0o755));
      fs.unlink(`${bottom}/${"n".repeat(255)}`);

      // A directory past PATH_MAX moves with everything under it.
      const middle = paths[25]!;
      expect(middle.length).toBeGreaterThan(PATH_MAX);
      const renamed = `${paths[24]!}/renamed`;
      fs.rename(middle, renamed, 0);
      const moved = renamed + bottom.slice(middle.length);
      expect(readFile(fs, `${moved}/f`)).toBe("deep");
      expectErrno("ENOENT", () => fs.stat(`${bottom}/f`));
      expect(listNames(fs, paths[24]!)).toEqual(["renamed"]);
      expectErrno("ENOTEMPTY", () => fs.rmdir(renamed));

      fs.unlink(`${moved}/f`);
      const chain = paths.map((path) => (path.length >= middle.length ? renamed + path.slice(middle.length) : path));
      for (const path of chain.reverse()) fs.rmdir(path);
      expect(listNames(fs, "/")).toEqual([]);
    }, ["deepPaths"]);

    // Names of 255 bytes, as few levels as the window's bound allows: a union resolves each name of a path on every call
    // and the cephfs walker each name from the root, so a union over cephfs costs the cube of the depth (minutes here).
    it("no bound on a path's length: a chain past DANAUS_PATH_MAX (more than a request window carries) works, two such paths in one rename too", (fs) => {
      fs.mkdir("a", 0o755);
      const names = Array.from({ length: Math.ceil((DANAUS_PATH_MAX + 1024) / 256) }, (_, i) => `${String(i).padStart(3, "0")}${"d".repeat(252)}`);
      let deep = "a";
      for (const name of names) {
        deep = `${deep}/${name}`;
        fs.mkdir(deep, 0o755);
      }
      expect(deep.length).toBeGreaterThan(DANAUS_PATH_MAX + 1024);
      writeFile(fs, `${deep}/f`, "deeper");
      expect(readFile(fs, `${deep}/f`)).toBe("deeper");
      expect(fs.lstat(`${deep}/f`).st_size).toBe(6);
      expect(listNames(fs, deep)).toEqual(["f"]);
      fs.rename(`${deep}/f`, `${deep}/g`, 0);
      expect(listNames(fs, deep)).toEqual(["g"]);
      expectErrno("ENOENT", () => fs.stat(`${deep}/f`));
      expectErrno("ENAMETOOLONG", () => fs.mkdir(`${deep}/${"n".repeat(256)}`, 0o755));
      fs.unlink(`${deep}/g`);
      for (let path = deep; path !== "a"; path = path.slice(0, path.lastIndexOf("/"))) fs.rmdir(path);
      fs.rmdir("a");
      expect(listNames(fs, "/")).toEqual([]);
    }, ["deepPaths"], 600_000);
  });
}
