/** @module test/conformance/cases/paths — path spelling (repeated slashes, ".", "..", trailing slashes), long names, stale handles. */
import { describe, expect } from "bun:test";
import {
  bytes, expectErrno, O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, O_WRONLY, readFile, writeFile, type Suite,
} from "../harness.ts";

/** Registers the path and handle cases. */
export function pathCases({ it }: Suite): void {
  describe("paths", () => {
    it("repeated slashes, \".\" and \"..\" components resolve as in Linux", (fs) => {
      fs.mkdir("a", 0o755);
      fs.mkdir("a/b", 0o755);
      writeFile(fs, "a/b/f", "deep");
      const ino = fs.stat("a/b/f").st_ino;
      for (const path of ["//a///b//f", "./a/./b/./f", "/a/b/../b/f", "a/./b/../../a/b/f", "/./a//b/f"]) {
        expect(fs.stat(path).st_ino).toBe(ino);
      }
      expect(readFile(fs, "a//b/./f")).toBe("deep");
      fs.mkdir("a//c/", 0o755);
      writeFile(fs, "./a/c//g", "g");
      expect(readFile(fs, "a/c/g")).toBe("g");
      fs.rename("a//c/g", "/a/./b//h", 0);
      expect(readFile(fs, "a/b/h")).toBe("g");
      fs.unlink("a/b/../b/h");
      fs.rmdir("a/./c/");
      expectErrno("ENOENT", () => fs.stat("a/c"));
    });

    it("a trailing slash on a file: ENOTDIR", (fs) => {
      writeFile(fs, "f", "");
      expectErrno("ENOTDIR", () => fs.stat("f/"));
      expectErrno("ENOTDIR", () => fs.open("f/", O_RDONLY, 0));
      expectErrno("ENOTDIR", () => fs.unlink("f/"));
      expectErrno("ENOTDIR", () => fs.rename("f/", "g", 0));
    });

    it("\"..\" through a file: ENOTDIR, through a missing name: ENOENT", (fs) => {
      writeFile(fs, "f", "");
      expectErrno("ENOTDIR", () => fs.stat("f/../f"));
      expectErrno("ENOENT", () => fs.stat("missing/../f"));
    });

    it("a 255-byte name works, a 256-byte name: ENAMETOOLONG", (fs) => {
      const ok = "n".repeat(255);
      const long = "n".repeat(256);
      writeFile(fs, ok, "x");
      expect(readFile(fs, ok)).toBe("x");
      expectErrno("ENAMETOOLONG", () => fs.open(long, O_CREAT | O_WRONLY, 0o644));
      expectErrno("ENAMETOOLONG", () => fs.mkdir(long, 0o755));
      expectErrno("ENAMETOOLONG", () => fs.stat(long));
      expectErrno("ENAMETOOLONG", () => fs.lstat(long));
      expectErrno("ENAMETOOLONG", () => fs.rename(ok, long, 0));
      expectErrno("ENAMETOOLONG", () => fs.unlink(long));
    });
  });

  describe("handles", () => {
    it("every handle operation on a closed file handle: EBADF", (fs) => {
      const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
      fs.write(fd, bytes("abc"));
      fs.close(fd);
      expectErrno("EBADF", () => fs.read(fd, new Uint8Array(4)));
      expectErrno("EBADF", () => fs.write(fd, bytes("x")));
      expectErrno("EBADF", () => fs.pread(fd, new Uint8Array(4), 0));
      expectErrno("EBADF", () => fs.pwrite(fd, bytes("x"), 0));
      expectErrno("EBADF", () => fs.lseek(fd, 0, 0));
      expectErrno("EBADF", () => fs.fstat(fd));
      expectErrno("EBADF", () => fs.ftruncate(fd, 0));
      expectErrno("EBADF", () => fs.fsync(fd));
      expectErrno("EBADF", () => fs.fdatasync(fd));
      expectErrno("EBADF", () => fs.close(fd));
      expect(readFile(fs, "f")).toBe("abc");
    });

    it("a closed directory handle: EBADF", (fs) => {
      fs.mkdir("d", 0o755);
      const fd = fs.open("d", O_RDONLY | O_DIRECTORY, 0);
      fs.close(fd);
      expectErrno("EBADF", () => fs.readdir(fd, 0));
      expectErrno("EBADF", () => fs.fstat(fd));
    });

    it("many handles open at once stay distinct", (fs) => {
      const handles: number[] = [];
      for (let i = 0; i < 64; i++) {
        const fd = fs.open(`f${i}`, O_CREAT | O_WRONLY, 0o644);
        fs.write(fd, bytes(String(i)));
        handles.push(fd);
      }
      expect(new Set(handles).size).toBe(64);
      for (const fd of handles) fs.close(fd);
      for (let i = 0; i < 64; i += 7) expect(readFile(fs, `f${i}`)).toBe(String(i));
    });
  });
}
