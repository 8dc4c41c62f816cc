/** @module test/conformance/cases/rename — rename over files and directories, its errno cases and the renameat2 flags. */
import { describe, expect } from "bun:test";
import {
  expectErrno, fileType, readFile, RENAME_EXCHANGE, RENAME_NOREPLACE, S_IFDIR, S_IFLNK, S_IFREG, writeFile, type Suite,
} from "../harness.ts";

/** Registers the rename cases. */
export function renameCases({ it }: Suite): void {
  describe("rename", () => {
    it("moves a file to a new name, also into another directory", (fs) => {
      writeFile(fs, "a", "content");
      fs.mkdir("d", 0o755);
      const ino = fs.stat("a").st_ino;
      fs.rename("a", "b", 0);
      expectErrno("ENOENT", () => fs.stat("a"));
      expect(readFile(fs, "b")).toBe("content");
      fs.rename("b", "d/c", 0);
      expect(fs.stat("d/c").st_ino).toBe(ino);
    });

    it("a file over a file replaces it", (fs) => {
      writeFile(fs, "a", "new");
      writeFile(fs, "b", "old");
      fs.rename("a", "b", 0);
      expect(readFile(fs, "b")).toBe("new");
      expect(fs.stat("b").st_nlink).toBe(1);
      expectErrno("ENOENT", () => fs.stat("a"));
    });

    it("a directory over an empty directory replaces it", (fs) => {
      fs.mkdir("a", 0o755);
      writeFile(fs, "a/f", "inside");
      fs.mkdir("b", 0o755);
      fs.rename("a", "b", 0);
      expect(readFile(fs, "b/f")).toBe("inside");
      expectErrno("ENOENT", () => fs.stat("a"));
    });

    it("a directory over a non-empty directory: ENOTEMPTY", (fs) => {
      fs.mkdir("a", 0o755);
      fs.mkdir("b", 0o755);
      writeFile(fs, "b/f", "");
      expectErrno("ENOTEMPTY", () => fs.rename("a", "b", 0));
      expect(fileType(fs.stat("a").st_mode)).toBe(S_IFDIR);
    });

    it("a file over a directory: EISDIR; a directory over a file: ENOTDIR", (fs) => {
      writeFile(fs, "f", "");
      fs.mkdir("d", 0o755);
      expectErrno("EISDIR", () => fs.rename("f", "d", 0));
      expectErrno("ENOTDIR", () => fs.rename("d", "f", 0));
      expect(fileType(fs.stat("f").st_mode)).toBe(S_IFREG);
      expect(fileType(fs.stat("d").st_mode)).toBe(S_IFDIR);
    });

    it("a directory into its own subdirectory: EINVAL", (fs) => {
      fs.mkdir("d", 0o755);
      fs.mkdir("d/sub", 0o755);
      expectErrno("EINVAL", () => fs.rename("d", "d/sub/moved", 0));
      expectErrno("EINVAL", () => fs.rename("d", "d/moved", 0));
    });

    it("a missing source or target directory: ENOENT", (fs) => {
      writeFile(fs, "f", "");
      expectErrno("ENOENT", () => fs.rename("missing", "x", 0));
      expectErrno("ENOENT", () => fs.rename("f", "nodir/x", 0));
      expect(readFile(fs, "f")).toBe("");
    });

    it("a name onto itself changes nothing", (fs) => {
      writeFile(fs, "f", "same");
      fs.rename("f", "f", 0);
      expect(readFile(fs, "f")).toBe("same");
    });

    it("moves a symlink itself, not its target", (fs) => {
      writeFile(fs, "f", "t");
      fs.symlink("f", "l");
      fs.rename("l", "m", 0);
      expect(fileType(fs.lstat("m").st_mode)).toBe(S_IFLNK);
      expect(readFile(fs, "f")).toBe("t");
    }, ["symlinks"]);

    it("the root, as source or target: EBUSY", (fs) => {
      writeFile(fs, "f", "");
      expectErrno("EBUSY", () => fs.rename("/", "x", 0));
      expectErrno("EBUSY", () => fs.rename("", "x", 0));
      expectErrno("EBUSY", () => fs.rename("f", "/", 0));
      expect(readFile(fs, "f")).toBe("");
    });

    it("RENAME_NOREPLACE over an existing name: EEXIST; onto a new name it moves", (fs) => {
      writeFile(fs, "a", "A");
      writeFile(fs, "b", "B");
      expectErrno("EEXIST", () => fs.rename("a", "b", RENAME_NOREPLACE));
      expect(readFile(fs, "a")).toBe("A");
      expect(readFile(fs, "b")).toBe("B");
      fs.rename("a", "c", RENAME_NOREPLACE);
      expect(readFile(fs, "c")).toBe("A");
    }, ["renameNoreplace"]);

    it("RENAME_EXCHANGE swaps a file and a directory; a missing side: ENOENT", (fs) => {
      writeFile(fs, "f", "file");
      fs.mkdir("d", 0o755);
      fs.rename("f", "d", RENAME_EXCHANGE);
      expect(fileType(fs.stat("f").st_mode)).toBe(S_IFDIR);
      expect(readFile(fs, "d")).toBe("file");
      expectErrno("ENOENT", () => fs.rename("d", "missing", RENAME_EXCHANGE));
    }, ["renameFlags"]);
  });
}
