/** @module test/conformance/cases/links — symlink, readlink and link. */
import { describe, expect } from "bun:test";
import {
  bytes, expectErrno, fileType, O_WRONLY, readFile, S_IFDIR, S_IFLNK, writeFile, type Suite,
} from "../harness.ts";
import { nameFromText } from "../../../kernel/ipc/protocol/index.ts";

/** Registers the link cases. */
export function linkCases({ it }: Suite): void {
  describe("symlink and readlink", () => {
    it("relative and absolute targets are stored verbatim, never resolved", (fs) => {
      // Byte strings (names.ts): UTF-8 text as its bytes, and bytes that are no text at all.
      const targets = ["../x/./y//z", "/etc/passwd", "/nonexistent/abs/", "plain", "a b\tc", nameFromText("ünïcödé"), "tgt-\xff\xfe"];
      targets.forEach((target, i) => fs.symlink(target, `l${i}`));
      targets.forEach((target, i) => {
        expect(fs.readlink(`l${i}`)).toBe(target);
        const st = fs.lstat(`l${i}`);
        expect(fileType(st.st_mode)).toBe(S_IFLNK);
        expect(st.st_size).toBe(target.length);
      });
    }, ["symlinks"]);

    it("an existing name: EEXIST; a missing parent: ENOENT", (fs) => {
      writeFile(fs, "f", "keep");
      fs.mkdir("d", 0o755);
      expectErrno("EEXIST", () => fs.symlink("x", "f"));
      expectErrno("EEXIST", () => fs.symlink("x", "d"));
      expectErrno("ENOENT", () => fs.symlink("x", "missing/l"));
      expect(readFile(fs, "f")).toBe("keep");
    }, ["symlinks"]);

    it("readlink of a file or directory: EINVAL; of a missing name: ENOENT", (fs) => {
      writeFile(fs, "f", "");
      fs.mkdir("d", 0o755);
      expectErrno("EINVAL", () => fs.readlink("f"));
      expectErrno("EINVAL", () => fs.readlink("d"));
      expectErrno("EINVAL", () => fs.readlink("/"));
      expectErrno("ENOENT", () => fs.readlink("missing"));
    });

    it("readlink reads the link named, following links earlier in the path", (fs) => {
      fs.mkdir("d", 0o755);
      fs.symlink("target", "d/l");
      fs.symlink("d", "ld");
      expect(fs.readlink("ld/l")).toBe("target");
    }, ["symlinks"]);
  });

  describe("link", () => {
    it("a second name for a file: nlink 2 on both, shared content", (fs) => {
      writeFile(fs, "a", "shared");
      fs.link("a", "b");
      expect(fs.stat("a").st_nlink).toBe(2);
      expect(fs.stat("b").st_nlink).toBe(2);
      expect(fs.stat("b").st_ino).toBe(fs.stat("a").st_ino);
      const fd = fs.open("b", O_WRONLY, 0);
      fs.pwrite(fd, bytes("SH"), 0);
      fs.close(fd);
      expect(readFile(fs, "a")).toBe("SHared");
      fs.unlink("a");
      expect(fs.stat("b").st_nlink).toBe(1);
    }, ["hardLinks"]);

    it("an existing new name: EEXIST; a directory: EPERM; a missing source: ENOENT", (fs) => {
      writeFile(fs, "a", "");
      writeFile(fs, "b", "");
      fs.mkdir("d", 0o755);
      expectErrno("EEXIST", () => fs.link("a", "b"));
      expectErrno("EPERM", () => fs.link("d", "d2"));
      expectErrno("ENOENT", () => fs.link("missing", "c"));
      expectErrno("ENOENT", () => fs.link("a", "missing/c"));
      expect(fileType(fs.stat("d").st_mode)).toBe(S_IFDIR);
    }, ["hardLinks"]);

    it("a symlink is linked itself, not its target", (fs) => {
      writeFile(fs, "f", "");
      fs.symlink("f", "l");
      fs.link("l", "l2");
      expect(fileType(fs.lstat("l2").st_mode)).toBe(S_IFLNK);
      expect(fs.lstat("l2").st_ino).toBe(fs.lstat("l").st_ino);
      expect(fs.stat("f").st_nlink).toBe(1);
    }, ["hardLinks", "symlinks"]);
  });
}
