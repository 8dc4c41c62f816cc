/** @module test/conformance/cases/truncate-sync — ftruncate, truncate, fsync and fdatasync. */
import { describe, expect } from "bun:test";
import { bytes, expectErrno, O_CREAT, O_RDONLY, O_RDWR, O_WRONLY, readBytes, readFile, writeFile, type Suite } from "../harness.ts";

/** Registers the size and flush cases. */
export function truncateSyncCases({ it }: Suite): void {
  describe("ftruncate and truncate", () => {
    it("ftruncate grows with zeros and shrinks", (fs) => {
      const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
      fs.write(fd, bytes("hello"));
      fs.ftruncate(fd, 10);
      expect(fs.fstat(fd).st_size).toBe(10);
      expect(Array.from(readBytes(fs, "f"))).toEqual([...bytes("hello"), 0, 0, 0, 0, 0]);
      fs.ftruncate(fd, 2);
      expect(fs.fstat(fd).st_size).toBe(2);
      fs.close(fd);
      expect(readFile(fs, "f")).toBe("he");
    });

    it("truncate by path grows and shrinks, following a symlink", (fs) => {
      writeFile(fs, "f", "hello");
      fs.truncate("f", 3);
      expect(readFile(fs, "f")).toBe("hel");
      fs.truncate("f", 4096);
      expect(fs.stat("f").st_size).toBe(4096);
      fs.truncate("f", 0);
      expect(fs.stat("f").st_size).toBe(0);
    });

    it("truncate through a symlink changes the target", (fs) => {
      writeFile(fs, "f", "hello");
      fs.symlink("f", "l");
      fs.truncate("l", 1);
      expect(readFile(fs, "f")).toBe("h");
    }, ["symlinks"]);

    it("truncate of a directory: EISDIR; of a missing name: ENOENT; negative length: EINVAL", (fs) => {
      fs.mkdir("d", 0o755);
      writeFile(fs, "f", "abc");
      expectErrno("EISDIR", () => fs.truncate("d", 0));
      expectErrno("ENOENT", () => fs.truncate("missing", 0));
      expectErrno("EINVAL", () => fs.truncate("f", -1));
      expect(readFile(fs, "f")).toBe("abc");
    });

    it("ftruncate of a read-only handle or to a negative length: EINVAL", (fs) => {
      writeFile(fs, "f", "abc");
      const ro = fs.open("f", O_RDONLY, 0);
      expectErrno("EINVAL", () => fs.ftruncate(ro, 0));
      fs.close(ro);
      const rw = fs.open("f", O_RDWR, 0);
      expectErrno("EINVAL", () => fs.ftruncate(rw, -1));
      fs.close(rw);
      expect(readFile(fs, "f")).toBe("abc");
    });
  });

  describe("fsync and fdatasync", () => {
    it("succeed on written and read-only handles, EBADF on a closed one", (fs) => {
      const fd = fs.open("f", O_CREAT | O_WRONLY, 0o644);
      fs.write(fd, bytes("durable"));
      fs.fsync(fd);
      fs.fdatasync(fd);
      fs.close(fd);
      const ro = fs.open("f", O_RDONLY, 0);
      fs.fsync(ro);
      fs.fdatasync(ro);
      fs.close(ro);
      expectErrno("EBADF", () => fs.fsync(ro));
      expectErrno("EBADF", () => fs.fdatasync(ro));
      expect(readFile(fs, "f")).toBe("durable");
    });
  });
}
