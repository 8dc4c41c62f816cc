/** @module test/conformance/cases/directories — mkdir, rmdir and unlink with their errno cases. */
import { describe, expect } from "bun:test";
import { expectErrno, fileType, O_RDONLY, readFile, S_IFDIR, S_IFREG, text, writeFile, type Suite } from "../harness.ts";

/** Registers the name creation and removal cases. */
export function directoryCases({ it }: Suite): void {
  describe("mkdir", () => {
    it("creates a directory with at most the requested permissions, with or without a trailing slash", (fs) => {
      fs.mkdir("d", 0o750);
      fs.mkdir("d/sub/", 0o755);
      const st = fs.stat("d");
      expect(fileType(st.st_mode)).toBe(S_IFDIR);
      expect(st.st_mode & 0o777 & ~0o750).toBe(0);
      expect(fileType(fs.stat("d/sub").st_mode)).toBe(S_IFDIR);
    });

    it("keeps the sticky bit and ignores set-user-ID and set-group-ID, as Linux's mkdir; a set-group-ID parent's is inherited", (fs) => {
      fs.mkdir("d", 0o7777);
      const made = fs.lstat("d").st_mode;
      expect(made & 0o7000).toBe(0o1000);
      expect(made & 0o700).toBe(0o700);
      fs.chmod("d", 0o2755);
      fs.mkdir("d/sub", 0o755);
      expect(fs.lstat("d/sub").st_mode & 0o7000).toBe(0o2000);
    });

    it("an existing name (directory, file, the root): EEXIST", (fs) => {
      fs.mkdir("d", 0o755);
      writeFile(fs, "f", "");
      expectErrno("EEXIST", () => fs.mkdir("d", 0o755));
      expectErrno("EEXIST", () => fs.mkdir("f", 0o755));
      expectErrno("EEXIST", () => fs.mkdir("/", 0o755));
      expectErrno("EEXIST", () => fs.mkdir("", 0o755));
      expect(fileType(fs.stat("f").st_mode)).toBe(S_IFREG);
    });

    it("an existing symlink, even dangling: EEXIST", (fs) => {
      fs.symlink("missing", "l");
      expectErrno("EEXIST", () => fs.mkdir("l", 0o755));
      expectErrno("ENOENT", () => fs.stat("missing"));
    }, ["symlinks"]);

    it("a missing parent: ENOENT; a file as parent: ENOTDIR", (fs) => {
      writeFile(fs, "f", "");
      expectErrno("ENOENT", () => fs.mkdir("missing/d", 0o755));
      expectErrno("ENOTDIR", () => fs.mkdir("f/d", 0o755));
    });
  });

  describe("rmdir", () => {
    it("removes an empty directory", (fs) => {
      fs.mkdir("d", 0o755);
      fs.rmdir("d");
      expectErrno("ENOENT", () => fs.stat("d"));
    });

    it("a non-empty directory: ENOTEMPTY", (fs) => {
      fs.mkdir("d", 0o755);
      writeFile(fs, "d/f", "");
      expectErrno("ENOTEMPTY", () => fs.rmdir("d"));
      expect(fileType(fs.stat("d/f").st_mode)).toBe(S_IFREG);
    });

    it("a file: ENOTDIR; a missing name: ENOENT; a final \".\": EINVAL", (fs) => {
      writeFile(fs, "f", "");
      fs.mkdir("d", 0o755);
      expectErrno("ENOTDIR", () => fs.rmdir("f"));
      expectErrno("ENOENT", () => fs.rmdir("missing"));
      expectErrno("EINVAL", () => fs.rmdir("d/."));
      expect(fileType(fs.stat("d").st_mode)).toBe(S_IFDIR);
    });

    it("a symlink to a directory: ENOTDIR, both kept", (fs) => {
      fs.mkdir("d", 0o755);
      fs.symlink("d", "l");
      expectErrno("ENOTDIR", () => fs.rmdir("l"));
      expect(fileType(fs.stat("l").st_mode)).toBe(S_IFDIR);
    }, ["symlinks"]);

    it("the root: EBUSY", (fs) => {
      writeFile(fs, "keep", "");
      expectErrno("EBUSY", () => fs.rmdir("/"));
      expectErrno("EBUSY", () => fs.rmdir(""));
      expect(readFile(fs, "keep")).toBe("");
    });
  });

  describe("unlink", () => {
    it("removes a file; an open handle still reads it", (fs) => {
      writeFile(fs, "f", "still here");
      const fd = fs.open("f", O_RDONLY, 0);
      fs.unlink("f");
      expectErrno("ENOENT", () => fs.stat("f"));
      const into = new Uint8Array(20);
      const count = fs.pread(fd, into, 0);
      expect(text(into.subarray(0, count))).toBe("still here");
      expect(fs.fstat(fd).st_nlink).toBe(0);
      fs.close(fd);
    });

    it("removes a symlink, not its target", (fs) => {
      writeFile(fs, "f", "target");
      fs.symlink("f", "l");
      fs.unlink("l");
      expectErrno("ENOENT", () => fs.lstat("l"));
      expect(readFile(fs, "f")).toBe("target");
    }, ["symlinks"]);

    it("a directory: EISDIR; a missing name: ENOENT; a file as parent: ENOTDIR", (fs) => {
      fs.mkdir("d", 0o755);
      writeFile(fs, "f", "");
      expectErrno("EISDIR", () => fs.unlink("d"));
      expectErrno("ENOENT", () => fs.unlink("missing"));
      expectErrno("ENOTDIR", () => fs.unlink("f/x"));
      expect(fileType(fs.stat("d").st_mode)).toBe(S_IFDIR);
    });
  });
}
