/** @module test/conformance/cases/open — open(2) flags and their errno cases, close. */
import { describe, expect } from "bun:test";
import {
  bytes, expectErrno, fileType, O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_TRUNC,
  O_WRONLY, readFile, S_IFDIR, S_IFREG, SEEK_SET, text, writeFile, type Suite,
} from "../harness.ts";

/** Registers the open/close cases. */
export function openCases({ it }: Suite): void {
  describe("open", () => {
    it("O_CREAT creates an empty regular file with at most the requested permissions", (fs) => {
      const fd = fs.open("f", O_CREAT | O_WRONLY, 0o640);
      const st = fs.fstat(fd);
      fs.close(fd);
      expect(fileType(st.st_mode)).toBe(S_IFREG);
      expect(st.st_size).toBe(0);
      expect(st.st_mode & 0o777 & ~0o640).toBe(0);
      expect(fs.stat("f").st_ino).toBe(st.st_ino);
    });

    it("O_CREAT on an existing file opens it without truncating", (fs) => {
      writeFile(fs, "f", "abc");
      const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
      const into = new Uint8Array(10);
      expect(fs.read(fd, into)).toBe(3);
      fs.close(fd);
      expect(text(into.subarray(0, 3))).toBe("abc");
    });

    it("O_CREAT | O_EXCL on an existing file or directory: EEXIST", (fs) => {
      writeFile(fs, "f", "abc");
      fs.mkdir("d", 0o755);
      expectErrno("EEXIST", () => fs.open("f", O_CREAT | O_EXCL | O_WRONLY, 0o644));
      expectErrno("EEXIST", () => fs.open("d", O_CREAT | O_EXCL | O_RDONLY, 0o644));
      expect(readFile(fs, "f")).toBe("abc");
    });

    it("O_CREAT | O_EXCL on a dangling symlink: EEXIST (the link is not followed)", (fs) => {
      fs.symlink("missing", "l");
      expectErrno("EEXIST", () => fs.open("l", O_CREAT | O_EXCL | O_WRONLY, 0o644));
      expectErrno("ENOENT", () => fs.stat("missing"));
    }, ["symlinks"]);

    it("O_CREAT through a dangling symlink creates its target", (fs) => {
      fs.symlink("target", "l");
      fs.close(fs.open("l", O_CREAT | O_WRONLY, 0o644));
      expect(fileType(fs.lstat("target").st_mode)).toBe(S_IFREG);
    }, ["symlinks"]);

    it("O_TRUNC empties an existing file", (fs) => {
      writeFile(fs, "f", "some content");
      const fd = fs.open("f", O_WRONLY | O_TRUNC, 0);
      expect(fs.fstat(fd).st_size).toBe(0);
      fs.close(fd);
      expect(readFile(fs, "f")).toBe("");
    });

    it("O_APPEND writes at the end whatever the position or offset", (fs) => {
      writeFile(fs, "f", "abc");
      const fd = fs.open("f", O_WRONLY | O_APPEND, 0);
      fs.lseek(fd, 0, SEEK_SET);
      expect(fs.write(fd, bytes("def"))).toBe(3);
      expect(fs.pwrite(fd, bytes("ghi"), 0)).toBe(3);
      fs.close(fd);
      expect(readFile(fs, "f")).toBe("abcdefghi");
    });

    it("O_DIRECTORY opens a directory and refuses a file with ENOTDIR", (fs) => {
      fs.mkdir("d", 0o755);
      writeFile(fs, "f", "");
      const fd = fs.open("d", O_RDONLY | O_DIRECTORY, 0);
      expect(fileType(fs.fstat(fd).st_mode)).toBe(S_IFDIR);
      fs.close(fd);
      expectErrno("ENOTDIR", () => fs.open("f", O_RDONLY | O_DIRECTORY, 0));
    });

    it("O_NOFOLLOW refuses a final symlink with ELOOP and opens a regular file", (fs) => {
      writeFile(fs, "f", "x");
      fs.symlink("f", "l");
      expectErrno("ELOOP", () => fs.open("l", O_RDONLY | O_NOFOLLOW, 0));
      fs.close(fs.open("f", O_RDONLY | O_NOFOLLOW, 0));
    }, ["symlinks"]);

    it("open follows a final symlink to its file", (fs) => {
      writeFile(fs, "f", "through the link");
      fs.symlink("f", "l");
      expect(readFile(fs, "l")).toBe("through the link");
    }, ["symlinks"]);

    it("writing a read-only handle or reading a write-only one: EBADF", (fs) => {
      writeFile(fs, "f", "abc");
      const ro = fs.open("f", O_RDONLY, 0);
      expectErrno("EBADF", () => fs.write(ro, bytes("x")));
      expectErrno("EBADF", () => fs.pwrite(ro, bytes("x"), 0));
      fs.close(ro);
      const wo = fs.open("f", O_WRONLY, 0);
      expectErrno("EBADF", () => fs.read(wo, new Uint8Array(4)));
      expectErrno("EBADF", () => fs.pread(wo, new Uint8Array(4), 0));
      fs.close(wo);
      expect(readFile(fs, "f")).toBe("abc");
    });

    it("a missing name, a missing parent: ENOENT; a file as a parent: ENOTDIR", (fs) => {
      writeFile(fs, "f", "");
      expectErrno("ENOENT", () => fs.open("missing", O_RDONLY, 0));
      expectErrno("ENOENT", () => fs.open("nodir/new", O_CREAT | O_WRONLY, 0o644));
      expectErrno("ENOTDIR", () => fs.open("f/new", O_CREAT | O_WRONLY, 0o644));
      expectErrno("ENOTDIR", () => fs.open("f/x", O_RDONLY, 0));
    });

    it("a directory opened for writing or with O_CREAT: EISDIR", (fs) => {
      fs.mkdir("d", 0o755);
      expectErrno("EISDIR", () => fs.open("d", O_WRONLY, 0));
      expectErrno("EISDIR", () => fs.open("d", O_RDWR, 0));
      expectErrno("EISDIR", () => fs.open("d", O_CREAT | O_WRONLY, 0o644));
    });

    it("the root opens as a directory as \"\", \"/\" and \".\"", (fs) => {
      for (const root of ["", "/", "."]) {
        const fd = fs.open(root, O_RDONLY | O_DIRECTORY, 0);
        expect(fileType(fs.fstat(fd).st_mode)).toBe(S_IFDIR);
        fs.close(fd);
      }
    });

    it("two handles of one file keep separate positions", (fs) => {
      writeFile(fs, "f", "abcdef");
      const a = fs.open("f", O_RDONLY, 0);
      const b = fs.open("f", O_RDONLY, 0);
      const into = new Uint8Array(3);
      fs.read(a, into);
      expect(text(into)).toBe("abc");
      fs.read(b, into);
      expect(text(into)).toBe("abc");
      fs.read(a, into);
      expect(text(into)).toBe("def");
      fs.close(a);
      fs.close(b);
    });
  });

  describe("close", () => {
    it("closing twice: EBADF", (fs) => {
      const fd = fs.open("f", O_CREAT | O_WRONLY, 0o644);
      fs.close(fd);
      expectErrno("EBADF", () => fs.close(fd));
    });
  });
}
