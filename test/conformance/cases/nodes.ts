/** @module test/conformance/cases/nodes — mknod of FIFOs, sockets, empty files and devices, the refused types, FIFO I/O. */
import { describe, expect } from "bun:test";
import { constants } from "node:fs";
import { DT, makedev, type FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import { KernelFifos } from "../../../shims/ts/kernel-fifo.ts";
import {
  bytes, expectErrno, fileType, listDirectory, O_RDONLY, O_WRONLY, S_IFDIR, S_IFREG, text, writeFile, type Suite,
} from "../harness.ts";

const { S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK, S_IFLNK, O_NONBLOCK } = constants;

/** One end of a FIFO opened through `fs`. */
interface PipeEnd {
  readonly handle: number;
  read(into: Uint8Array): number;
  write(data: Uint8Array): number;
  close(): void;
}

/**
 * Opens `path` with `flags` through `fs`: a client's handle carries the pipe itself; a service's open answers a node
 * (see FileSystem.fifoNode), reopened here as a client of the service would.
 */
function openEnd(fs: FileSystem, path: string, flags: number): PipeEnd {
  const handle = fs.open(path, flags, 0);
  const node = fs.fifoNode(handle);
  if (node < 0) return { handle, read: (into) => fs.read(handle, into), write: (data) => fs.write(handle, data), close: () => fs.close(handle) };
  expect(fs.fifoNode(handle)).toBe(node);
  const pipes = new KernelFifos();
  try {
    pipes.open(handle, { pid: process.pid, fd: node }, flags);
  } catch (error) {
    fs.close(handle);
    throw error;
  }
  return { handle, read: (into) => pipes.read(handle, into), write: (data) => pipes.write(handle, data), close: () => (pipes.close(handle), fs.close(handle)) };
}

/** Registers the mknod cases. */
export function nodeCases({ it, caps }: Suite): void {
  describe("mknod", () => {
    it("creates a FIFO and a socket with their type and at most the requested permissions (umask applied)", (fs) => {
      fs.mknod("p", S_IFIFO | 0o640, 0);
      fs.mknod("s", S_IFSOCK | 0o750, 0);
      const fifo = fs.lstat("p");
      const socket = fs.lstat("s");
      expect(fileType(fifo.st_mode)).toBe(S_IFIFO);
      expect(fileType(socket.st_mode)).toBe(S_IFSOCK);
      expect(fifo.st_mode & 0o777 & ~0o640).toBe(0);
      expect(socket.st_mode & 0o777 & ~0o750).toBe(0);
      // The owner's bits survive any usual umask (022, 077).
      expect(fifo.st_mode & 0o600).toBe(0o600);
      expect(fifo.st_size).toBe(0);
      expect(fifo.st_nlink).toBe(1);
      const types = Object.fromEntries(listDirectory(fs, "").map((entry) => [entry.name, entry.type]));
      expect(types).toEqual({ p: DT.FIFO, s: DT.SOCK });
    });

    it("S_IFREG or no type makes an empty regular file", (fs) => {
      fs.mknod("f", S_IFREG | 0o644, 0);
      fs.mknod("g", 0o600, 0);
      for (const name of ["f", "g"]) {
        const st = fs.lstat(name);
        expect(fileType(st.st_mode)).toBe(S_IFREG);
        expect(st.st_size).toBe(0);
      }
    });

    it("in a subdirectory; chmod, rename and unlink of a FIFO", (fs) => {
      fs.mkdir("d", 0o755);
      fs.mknod("d/p", S_IFIFO | 0o600, 0);
      fs.chmod("d/p", 0o644);
      expect(fs.stat("d/p").st_mode & 0o7777).toBe(0o644);
      fs.rename("d/p", "q", 0);
      expect(fileType(fs.lstat("q").st_mode)).toBe(S_IFIFO);
      expectErrno("ENOENT", () => fs.lstat("d/p"));
      fs.unlink("q");
      expectErrno("ENOENT", () => fs.lstat("q"));
    });

    it("an existing name (file, FIFO, directory, the root): EEXIST, the old object kept", (fs) => {
      writeFile(fs, "f", "keep");
      fs.mknod("p", S_IFIFO | 0o600, 0);
      fs.mkdir("d", 0o755);
      for (const name of ["f", "p", "d", "/"]) expectErrno("EEXIST", () => fs.mknod(name, S_IFIFO | 0o600, 0));
      expectErrno("EEXIST", () => fs.mknod("f", S_IFSOCK | 0o600, 0));
      expect(fileType(fs.lstat("f").st_mode)).toBe(S_IFREG);
      expect(fs.lstat("f").st_size).toBe(4);
      expect(fileType(fs.lstat("d").st_mode)).toBe(S_IFDIR);
    });

    it("a missing parent: ENOENT; a file as parent: ENOTDIR", (fs) => {
      writeFile(fs, "f", "");
      expectErrno("ENOENT", () => fs.mknod("missing/p", S_IFIFO | 0o600, 0));
      expectErrno("ENOTDIR", () => fs.mknod("f/p", S_IFIFO | 0o600, 0));
      expectErrno("ENOTDIR", () => fs.mknod("f/s", S_IFSOCK | 0o600, 0));
    });

    it("character and block devices: made with their number, listed with their type, never opened (EACCES)", (fs) => {
      if (!caps.devices) {
        // Without the privilege to make devices (CAP_MKNOD), as mknod(2) answers.
        expectErrno("EPERM", () => fs.mknod("c", S_IFCHR | 0o600, makedev(1, 3)));
        expectErrno("EPERM", () => fs.mknod("b", S_IFBLK | 0o600, makedev(7, 0)));
        expect(listDirectory(fs, "")).toEqual([]);
        return;
      }
      // /dev/null's number, and a block device number that no host has, in case a device were reached after all.
      const tty = makedev(1, 3);
      const disk = makedev(259, 0x12345);
      fs.mknod("c", S_IFCHR | 0o640, tty);
      fs.mknod("b", S_IFBLK | 0o600, disk);
      const char = fs.lstat("c");
      const block = fs.lstat("b");
      expect(fileType(char.st_mode)).toBe(S_IFCHR);
      expect(fileType(block.st_mode)).toBe(S_IFBLK);
      expect([char.st_rdev, block.st_rdev]).toEqual([tty, disk]);
      expect(char.st_mode & 0o777 & ~0o640).toBe(0);
      expect(char.st_size).toBe(0);
      const types = Object.fromEntries(listDirectory(fs, "").map((entry) => [entry.name, entry.type]));
      expect(types).toEqual({ b: DT.BLK, c: DT.CHR });
      // Every danaus mount is nodev: the device behind the name is never reached.
      for (const flags of [O_RDONLY, O_WRONLY, O_RDONLY | O_NONBLOCK]) {
        expectErrno("EACCES", () => fs.open("c", flags, 0));
        expectErrno("EACCES", () => fs.open("b", flags, 0));
      }
      fs.chmod("c", 0o600);
      fs.rename("c", "d", 0);
      expect(fs.lstat("d").st_rdev).toBe(tty);
      expect(fs.lstat("d").st_mode & 0o7777).toBe(0o600);
      fs.unlink("d");
      fs.unlink("b");
      expect(listDirectory(fs, "")).toEqual([]);
    });

    it("S_IFDIR: EPERM; S_IFLNK or a device number beyond dev_t: EINVAL; nothing created", (fs) => {
      expectErrno("EPERM", () => fs.mknod("dir", S_IFDIR | 0o755, 0));
      expectErrno("EINVAL", () => fs.mknod("l", S_IFLNK | 0o777, 0));
      expectErrno("EINVAL", () => fs.mknod("c", S_IFCHR | 0o600, 2 ** 32));
      expectErrno("EINVAL", () => fs.mknod("c", S_IFCHR | 0o600, -1));
      expect(listDirectory(fs, "")).toEqual([]);
    });

    it("a FIFO carries bytes from a writer handle to a reader handle", (fs) => {
      fs.mknod("p", S_IFIFO | 0o600, 0);
      // The reader first and non-blocking: then opening the writer does not wait either.
      const reader = openEnd(fs, "p", O_RDONLY | O_NONBLOCK);
      try {
        const into = new Uint8Array(64);
        const writer = openEnd(fs, "p", O_WRONLY | O_NONBLOCK);
        try {
          expect(fileType(fs.fstat(writer.handle).st_mode)).toBe(S_IFIFO);
          expect(writer.write(bytes("through the pipe"))).toBe(16);
          const count = reader.read(into);
          expect(text(into.subarray(0, count))).toBe("through the pipe");
          // Drained while a writer is open: a non-blocking read would wait.
          expectErrno("EAGAIN", () => reader.read(into));
        } finally {
          writer.close();
        }
        // Drained and every writer closed: end of file.
        expect(reader.read(into)).toBe(0);
      } finally {
        reader.close();
      }
    }, ["fifoIo"]);

    it("a non-blocking writer without a reader: ENXIO; opening a socket: ENXIO; both leave nothing open", (fs) => {
      fs.mknod("p", S_IFIFO | 0o600, 0);
      fs.mknod("s", S_IFSOCK | 0o600, 0);
      expectErrno("ENXIO", () => openEnd(fs, "p", O_WRONLY | O_NONBLOCK));
      expectErrno("ENXIO", () => openEnd(fs, "s", O_RDONLY));
      // The FIFO still works afterwards, and its handles close.
      const reader = openEnd(fs, "p", O_RDONLY | O_NONBLOCK);
      const writer = openEnd(fs, "p", O_WRONLY | O_NONBLOCK);
      writer.close();
      expect(reader.read(new Uint8Array(8))).toBe(0);
      reader.close();
    }, ["fifoIo"]);
  });
}
