/** @module test/conformance/cases/io — read, write, pread, pwrite and lseek: positions, short reads, holes, offsets beyond 4 GiB. */
import { describe, expect } from "bun:test";
import {
  bytes, expectErrno, O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, readAll, SEEK_CUR, SEEK_END, SEEK_SET, text,
  writeFile, type Suite,
} from "../harness.ts";

const GiB = 1024 * 1024 * 1024;

/** Registers the data I/O cases. */
export function ioCases({ it }: Suite): void {
  describe("read and write", () => {
    it("write then read at the handle's position, short read at the end, 0 after it", (fs) => {
      const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
      expect(fs.write(fd, bytes("hello "))).toBe(6);
      expect(fs.write(fd, bytes("world"))).toBe(5);
      expect(fs.lseek(fd, 0, SEEK_CUR)).toBe(11);
      fs.lseek(fd, 0, SEEK_SET);
      const into = new Uint8Array(5);
      expect(fs.read(fd, into)).toBe(5);
      expect(text(into)).toBe("hello");
      const rest = new Uint8Array(100);
      expect(fs.read(fd, rest)).toBe(6);
      expect(text(rest.subarray(0, 6))).toBe(" world");
      expect(fs.read(fd, rest)).toBe(0);
      fs.close(fd);
    });

    it("pread and pwrite use their offset and leave the position alone", (fs) => {
      const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
      expect(fs.pwrite(fd, bytes("0123456789"), 0)).toBe(10);
      expect(fs.pwrite(fd, bytes("abc"), 4)).toBe(3);
      expect(fs.lseek(fd, 0, SEEK_CUR)).toBe(0);
      const into = new Uint8Array(4);
      expect(fs.pread(fd, into, 3)).toBe(4);
      expect(text(into)).toBe("3abc");
      expect(fs.pread(fd, into, 8)).toBe(2);
      expect(text(into.subarray(0, 2))).toBe("89");
      expect(fs.pread(fd, into, 10)).toBe(0);
      expect(fs.pread(fd, into, 1000)).toBe(0);
      expect(fs.lseek(fd, 0, SEEK_CUR)).toBe(0);
      fs.close(fd);
    });

    it("a subarray is filled and written exactly within its bounds", (fs) => {
      const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
      const source = bytes("..abc..");
      expect(fs.pwrite(fd, source.subarray(2, 5), 0)).toBe(3);
      const into = new Uint8Array(8).fill(0x2d);
      expect(fs.pread(fd, into.subarray(3, 6), 0)).toBe(3);
      expect(text(into)).toBe("---abc--");
      fs.close(fd);
    });

    it("zero-length reads and writes return 0", (fs) => {
      const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
      expect(fs.write(fd, new Uint8Array(0))).toBe(0);
      expect(fs.pwrite(fd, new Uint8Array(0), 5)).toBe(0);
      expect(fs.read(fd, new Uint8Array(0))).toBe(0);
      expect(fs.pread(fd, new Uint8Array(0), 0)).toBe(0);
      expect(fs.fstat(fd).st_size).toBe(0);
      fs.close(fd);
    });

    it("a hole written past the end reads as zeros", (fs) => {
      const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
      fs.pwrite(fd, bytes("x"), 100_000);
      expect(fs.fstat(fd).st_size).toBe(100_001);
      const data = readAll(fs, fd, 0);
      expect(data.length).toBe(100_001);
      expect(data.subarray(0, 100_000).every((b) => b === 0)).toBe(true);
      expect(data[100_000]).toBe(0x78);
      fs.close(fd);
    });

    it("1 MiB of varied bytes round-trips", (fs) => {
      const data = new Uint8Array(1024 * 1024 + 13);
      for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
      writeFile(fs, "f", data);
      const fd = fs.open("f", O_RDONLY, 0);
      expect(Buffer.from(readAll(fs, fd, 0)).equals(Buffer.from(data))).toBe(true);
      fs.close(fd);
    });

    it("reading a directory handle: EISDIR", (fs) => {
      fs.mkdir("d", 0o755);
      const fd = fs.open("d", O_RDONLY | O_DIRECTORY, 0);
      expectErrno("EISDIR", () => fs.read(fd, new Uint8Array(8)));
      expectErrno("EISDIR", () => fs.pread(fd, new Uint8Array(8), 0));
      fs.close(fd);
    });

    it("offsets beyond 4 GiB: pwrite, pread, lseek, read, ftruncate", (fs) => {
      const far = 5 * GiB + 7;
      const fd = fs.open("big", O_CREAT | O_RDWR, 0o644);
      expect(fs.pwrite(fd, bytes("tail"), far)).toBe(4);
      expect(fs.fstat(fd).st_size).toBe(far + 4);
      const into = new Uint8Array(8);
      expect(fs.pread(fd, into, far)).toBe(4);
      expect(text(into.subarray(0, 4))).toBe("tail");
      expect(fs.pread(fd, into, 4 * GiB)).toBe(8);
      expect(into.every((b) => b === 0)).toBe(true);
      expect(fs.lseek(fd, far + 1, SEEK_SET)).toBe(far + 1);
      expect(fs.read(fd, into)).toBe(3);
      expect(text(into.subarray(0, 3))).toBe("ail");
      expect(fs.lseek(fd, 0, SEEK_CUR)).toBe(far + 4);
      fs.ftruncate(fd, 6 * GiB);
      expect(fs.lseek(fd, 0, SEEK_END)).toBe(6 * GiB);
      expect(fs.stat("big").st_size).toBe(6 * GiB);
      fs.close(fd);
    }, ["largeFiles"]);
  });

  describe("lseek", () => {
    it("SEEK_SET, SEEK_CUR and SEEK_END return the new position", (fs) => {
      writeFile(fs, "f", "0123456789");
      const fd = fs.open("f", O_RDONLY, 0);
      expect(fs.lseek(fd, 4, SEEK_SET)).toBe(4);
      expect(fs.lseek(fd, 3, SEEK_CUR)).toBe(7);
      expect(fs.lseek(fd, -2, SEEK_CUR)).toBe(5);
      expect(fs.lseek(fd, 0, SEEK_END)).toBe(10);
      expect(fs.lseek(fd, -3, SEEK_END)).toBe(7);
      const into = new Uint8Array(10);
      expect(fs.read(fd, into)).toBe(3);
      expect(text(into.subarray(0, 3))).toBe("789");
      fs.close(fd);
    });

    it("a position past the end is allowed and a write there leaves a hole", (fs) => {
      const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
      expect(fs.lseek(fd, 10, SEEK_END)).toBe(10);
      expect(fs.read(fd, new Uint8Array(4))).toBe(0);
      fs.write(fd, bytes("z"));
      expect(fs.fstat(fd).st_size).toBe(11);
      const data = readAll(fs, fd, 0);
      expect(Array.from(data.subarray(0, 10))).toEqual(new Array(10).fill(0));
      fs.close(fd);
    });

    it("a negative result or an unknown whence: EINVAL, position unchanged", (fs) => {
      writeFile(fs, "f", "0123456789");
      const fd = fs.open("f", O_RDONLY, 0);
      fs.lseek(fd, 2, SEEK_SET);
      expectErrno("EINVAL", () => fs.lseek(fd, -1, SEEK_SET));
      expectErrno("EINVAL", () => fs.lseek(fd, -3, SEEK_CUR));
      expectErrno("EINVAL", () => fs.lseek(fd, -11, SEEK_END));
      expectErrno("EINVAL", () => fs.lseek(fd, 0, 99));
      expect(fs.lseek(fd, 0, SEEK_CUR)).toBe(2);
      fs.close(fd);
    });
  });
}
