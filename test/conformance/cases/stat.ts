/** @module test/conformance/cases/stat — fstat, stat and lstat fields, symlink following and errno cases. */
import { describe, expect } from "bun:test";
import {
  bytes, expectErrno, fileType, O_CREAT, O_RDWR, S_IFDIR, S_IFLNK, S_IFREG, writeFile, type Suite,
} from "../harness.ts";

/** Registers the stat cases. */
export function statCases({ it }: Suite): void {
  describe("stat, lstat, fstat", () => {
    it("a file: type, size, one link, the same inode by name and by handle", (fs) => {
      writeFile(fs, "f", "12345");
      const byName = fs.stat("f");
      expect(fileType(byName.st_mode)).toBe(S_IFREG);
      expect(byName.st_size).toBe(5);
      expect(byName.st_nlink).toBe(1);
      expect(byName.st_blksize).toBeGreaterThan(0);
      expect(fs.lstat("f")).toEqual(byName);
      const fd = fs.open("f", O_RDWR, 0);
      const byHandle = fs.fstat(fd);
      fs.close(fd);
      expect(byHandle.st_ino).toBe(byName.st_ino);
      expect(byHandle.st_dev).toBe(byName.st_dev);
      expect(byHandle.st_size).toBe(5);
    });

    it("a directory and the root: S_IFDIR with at least one link", (fs) => {
      fs.mkdir("d", 0o755);
      for (const path of ["d", "", "/", "."]) {
        const st = fs.stat(path);
        expect(fileType(st.st_mode)).toBe(S_IFDIR);
        expect(st.st_nlink).toBeGreaterThanOrEqual(1);
      }
      expect(fs.stat("").st_ino).toBe(fs.stat("/").st_ino);
    });

    it("stat follows a symlink, lstat shows the link with its target's length as size", (fs) => {
      writeFile(fs, "f", "abc");
      fs.symlink("f", "l");
      fs.symlink("../nowhere", "dangling");
      expect(fs.stat("l").st_ino).toBe(fs.stat("f").st_ino);
      const link = fs.lstat("l");
      expect(fileType(link.st_mode)).toBe(S_IFLNK);
      expect(link.st_size).toBe(1);
      expect(link.st_ino).not.toBe(fs.stat("f").st_ino);
      expect(fs.lstat("dangling").st_size).toBe(10);
      expectErrno("ENOENT", () => fs.stat("dangling"));
    }, ["symlinks"]);

    it("a symlinked directory in the middle of a path is followed by both", (fs) => {
      fs.mkdir("d", 0o755);
      writeFile(fs, "d/f", "x");
      fs.symlink("d", "ld");
      expect(fs.lstat("ld/f").st_ino).toBe(fs.stat("d/f").st_ino);
    }, ["symlinks"]);

    it("ENOENT for a missing name, ENOTDIR through a file", (fs) => {
      writeFile(fs, "f", "");
      expectErrno("ENOENT", () => fs.stat("missing"));
      expectErrno("ENOENT", () => fs.lstat("missing"));
      expectErrno("ENOENT", () => fs.stat("missing/x"));
      expectErrno("ENOTDIR", () => fs.stat("f/x"));
      expectErrno("ENOTDIR", () => fs.lstat("f/x"));
    });

    it("a symlink loop: ELOOP for stat, lstat still works", (fs) => {
      fs.symlink("loop", "loop");
      fs.symlink("b", "a");
      fs.symlink("a", "b");
      expectErrno("ELOOP", () => fs.stat("loop"));
      expectErrno("ELOOP", () => fs.stat("a"));
      expect(fileType(fs.lstat("loop").st_mode)).toBe(S_IFLNK);
    }, ["symlinks"]);

    it("mtime moves forward on write, size follows", (fs) => {
      writeFile(fs, "f", "");
      fs.utimens("f", { sec: 1_000_000_000, nsec: 0 }, { sec: 1_000_000_000, nsec: 0 }, 0);
      const fd = fs.open("f", O_RDWR, 0);
      fs.write(fd, bytes("more"));
      const st = fs.fstat(fd);
      fs.close(fd);
      expect(st.st_mtime_sec).toBeGreaterThan(1_000_000_000);
      expect(st.st_ctime_sec).toBeGreaterThan(1_000_000_000);
      expect(st.st_size).toBe(4);
    });

    it("a new file belongs to a real owner and carries sane timestamps", (fs) => {
      const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
      const st = fs.fstat(fd);
      fs.close(fd);
      expect(st.st_mtime_sec).toBeGreaterThan(0);
      expect(st.st_mtime_nsec).toBeLessThan(1_000_000_000);
      expect(st.st_atime_nsec).toBeLessThan(1_000_000_000);
      expect(st.st_uid).toBeGreaterThanOrEqual(0);
    });
  });
}
