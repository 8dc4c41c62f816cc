/** Tests of shims/ts/promises against a real tenant service: every function, its success and its errno cases, and a comparison with node:fs/promises. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import * as nodeFs from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DanausClient } from "../../../shims/ts/client.ts";
import { FsError } from "../../../kernel/ipc/protocol/index.ts";
import { promises, FileHandle, Stats, type DanausPromises } from "../../../shims/ts/promises/index.ts";
import { Harness, tenantToml } from "../../integration/harness.ts";

const MOUNT = "/mnt/test/alpha";
let harness: Harness;
let client: DanausClient;
let fs: DanausPromises;
let counter = 0;

/** A fresh directory on the mount for one test. */
async function scratch(): Promise<string> {
  const dir = join(MOUNT, `t${++counter}`);
  await fs.mkdir(dir);
  return dir;
}

/** The error code a promise rejects with, or "ok". */
async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    return String((error as { code?: unknown }).code ?? error);
  }
}

/** The FsError a promise rejects with (fails the test if it resolves or throws something else). */
async function fsError(promise: Promise<unknown>): Promise<FsError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FsError);
  return error as FsError;
}

beforeAll(async () => {
  harness = new Harness({ tenants: { alpha: tenantToml("alpha", 0, "", "") } });
  await harness.start(["alpha"]);
  client = DanausClient.connect({ socket: join(harness.dir, "state/run/alpha/router.sock") });
  fs = promises(client);
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  await harness?.stop();
}, 60_000);

describe("open and FileHandle", () => {
  test("Node flag strings: w creates and truncates, r+ keeps, a appends, wx refuses an existing file", async () => {
    const dir = await scratch();
    const file = join(dir, "f");
    const w = await fs.open(file, "w");
    expect(w).toBeInstanceOf(FileHandle);
    expect(w.fd).toBeGreaterThan(0);
    await w.write("0123456789");
    await w.close();
    const rw = await fs.open(file, "r+");
    await rw.write("ab");
    await rw.close();
    expect(await fs.readFile(file, "utf8")).toBe("ab23456789");
    const a = await fs.open(file, "a");
    await a.write("!", 0); // position is ignored for append handles
    await a.close();
    expect(await fs.readFile(file, "utf8")).toBe("ab23456789!");
    (await fs.open(file, "w")).close();
    expect((await fs.stat(file)).size).toBe(0);
    const numeric = await fs.open(file, constants.O_RDWR);
    await numeric.close();
    expect((await fsError(fs.open(file, "wx"))).code).toBe("EEXIST");
    expect((await fsError(fs.open(join(dir, "missing"), "r"))).code).toBe("ENOENT");
    expect((await fsError(fs.open(join(dir, "missing"))))).toMatchObject({ code: "ENOENT", syscall: "open" });
    expect((await fsError(fs.open(dir, "w"))).code).toBe("EISDIR");
    expect(await outcome(fs.open(file, "rw"))).toBe("ERR_INVALID_ARG_VALUE");
  });

  test("read and write at positions, sequentially, and in the options-object forms", async () => {
    const dir = await scratch();
    const handle = await fs.open(join(dir, "f"), "w+", 0o600);
    const first = await handle.write(Buffer.from("hello world"));
    expect(first).toMatchObject({ bytesWritten: 11 });
    expect((await handle.write(Buffer.from("WORLD"), 0, 5, 6)).bytesWritten).toBe(5);
    expect((await handle.write("HE", 0)).buffer).toBe("HE");
    expect((await handle.write(Buffer.from("xxLLOxx"), { offset: 2, length: 3, position: 2 })).bytesWritten).toBe(3);
    // The descriptor's own position is still after "hello world": positional writes did not move it.
    await handle.write("?");
    const at0 = await handle.read(Buffer.alloc(12), 0, 12, 0);
    expect(at0.bytesRead).toBe(12);
    expect(at0.buffer.toString()).toBe("HELLO WORLD?");
    const into = Buffer.alloc(5);
    expect((await handle.read(into, { position: 6 })).bytesRead).toBe(5);
    expect(into.toString()).toBe("WORLD");
    const options = await handle.read({ buffer: Buffer.alloc(4), position: 1 });
    expect(options.buffer.toString()).toBe("ELLO");
    const offset = await handle.read(Buffer.alloc(8), 4, 4, 0);
    expect(offset.buffer.subarray(4).toString()).toBe("HELL");
    const past = await handle.read(Buffer.alloc(4), 0, 4, 100);
    expect(past.bytesRead).toBe(0);
    const fresh = await handle.read();
    expect(fresh.buffer.length).toBe(16384);
    expect(fresh.bytesRead).toBe(0); // sequential position is at the end
    expect(await outcome(handle.read(Buffer.alloc(4), 2, 10, 0))).toBe("ERR_OUT_OF_RANGE");
    const typed = new Uint16Array(2);
    expect((await handle.read(typed, 0, 4, 0)).bytesRead).toBe(4);
    expect(Buffer.from(typed.buffer).toString()).toBe("HELL");
    await handle.close();
  });

  test("sequential reads advance; readv/writev; stat, truncate, sync, datasync", async () => {
    const dir = await scratch();
    const handle = await fs.open(join(dir, "f"), "w+");
    expect((await handle.writev([Buffer.from("abc"), Buffer.from("def")])).bytesWritten).toBe(6);
    expect((await handle.writev([Buffer.from("XY")], 1)).bytesWritten).toBe(2);
    const a = Buffer.alloc(2);
    const b = Buffer.alloc(10);
    expect((await handle.readv([a, b], 0)).bytesRead).toBe(6);
    expect(a.toString() + b.subarray(0, 4).toString()).toBe("aXYdef");
    const seq = await fs.open(join(dir, "f"), "r");
    expect((await seq.read(Buffer.alloc(3))).buffer.toString()).toBe("aXY");
    expect((await seq.read(Buffer.alloc(3))).buffer.toString()).toBe("def");
    expect((await seq.read(Buffer.alloc(3))).bytesRead).toBe(0);
    await seq.close();
    const stats = await handle.stat();
    expect(stats).toBeInstanceOf(Stats);
    expect(stats.isFile()).toBe(true);
    expect(stats.size).toBe(6);
    await handle.truncate(2);
    expect((await handle.stat()).size).toBe(2);
    await handle.truncate();
    expect((await handle.stat()).size).toBe(0);
    await handle.sync();
    await handle.datasync();
    const ro = await fs.open(join(dir, "f"), "r");
    expect((await fsError(ro.truncate(1))).code).toMatch(/^(EINVAL|EBADF)$/);
    expect((await fsError(ro.write("x"))).code).toBe("EBADF");
    await ro.close();
    await handle.close();
  });

  test("close: fd becomes -1, a second close resolves, later calls reject with EBADF; asyncDispose closes", async () => {
    const dir = await scratch();
    const handle = await fs.open(join(dir, "f"), "w");
    await handle.close();
    expect(handle.fd).toBe(-1);
    await handle.close();
    expect((await fsError(handle.read(Buffer.alloc(1), 0, 1, 0))).code).toBe("EBADF");
    expect((await fsError(handle.stat())).code).toBe("EBADF");
    expect((await fsError(handle.sync())).code).toBe("EBADF");
    let fd = 0;
    {
      await using scoped = await fs.open(join(dir, "f"), "r");
      fd = scoped.fd;
      expect(client.fstat(fd).st_size).toBe(0);
    }
    expect(() => client.fstat(fd)).toThrow(expect.objectContaining({ code: "EBADF" }));
  });

  test("FileHandle readFile/writeFile/appendFile work from the position", async () => {
    const dir = await scratch();
    const handle = await fs.open(join(dir, "f"), "w+");
    await handle.writeFile("hello ");
    await handle.appendFile(Buffer.from("world"));
    expect(await handle.readFile("utf8")).toBe(""); // at end of file
    const reread = await fs.open(join(dir, "f"), "r");
    await reread.read(Buffer.alloc(6));
    expect(await reread.readFile({ encoding: "utf8" })).toBe("world");
    await reread.close();
    expect(await fs.readFile(handle, "utf8")).toBe("");
    await fs.writeFile(handle, "!");
    await handle.close();
    expect(await fs.readFile(join(dir, "f"), "utf8")).toBe("hello world!");
  });
});

describe("readFile / writeFile / appendFile", () => {
  test("strings, encodings, Buffers, iterables, mode and flag", async () => {
    const dir = await scratch();
    const file = join(dir, "f");
    await fs.writeFile(file, "héllo");
    const bytes = await fs.readFile(file);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(bytes.toString()).toBe("héllo");
    expect(await fs.readFile(file, "utf8")).toBe("héllo");
    expect(await fs.readFile(file, { encoding: "hex" })).toBe(Buffer.from("héllo").toString("hex"));
    await fs.writeFile(file, "aGk=", "base64");
    expect(await fs.readFile(file, "utf8")).toBe("hi");
    await fs.writeFile(file, new Uint8Array([65, 66, 67]));
    expect(await fs.readFile(file, "latin1")).toBe("ABC");
    await fs.writeFile(file, ["one ", Buffer.from("two "), new Uint8Array([51])]);
    expect(await fs.readFile(file, "utf8")).toBe("one two 3");
    async function* chunks() {
      yield "as";
      yield "ync";
    }
    await fs.writeFile(file, chunks());
    expect(await fs.readFile(file, "utf8")).toBe("async");
    await fs.writeFile(join(dir, "private"), "x", { mode: 0o600 });
    expect((await fs.stat(join(dir, "private"))).mode & 0o777).toBe(0o600);
    await fs.writeFile(file, "more", { flag: "a", flush: true });
    expect(await fs.readFile(file, "utf8")).toBe("asyncmore");
    expect(await fs.readFile(file, { encoding: "utf8", flag: "r+" })).toBe("asyncmore");
  });

  test("errors: ENOENT, EISDIR, EEXIST with wx, ENOTDIR, abort", async () => {
    const dir = await scratch();
    expect((await fsError(fs.readFile(join(dir, "missing")))).code).toBe("ENOENT");
    expect((await fsError(fs.readFile(dir))).code).toBe("EISDIR");
    expect((await fsError(fs.writeFile(join(dir, "no/such/file"), "x"))).code).toBe("ENOENT");
    expect((await fsError(fs.writeFile(dir, "x"))).code).toBe("EISDIR");
    await fs.writeFile(join(dir, "f"), "x");
    expect((await fsError(fs.writeFile(join(dir, "f"), "y", { flag: "wx" }))).code).toBe("EEXIST");
    expect((await fsError(fs.readFile(join(dir, "f/child")))).code).toBe("ENOTDIR");
    const controller = new AbortController();
    controller.abort();
    expect(await outcome(fs.readFile(join(dir, "f"), { signal: controller.signal }))).toBe("ABORT_ERR");
    expect(await outcome(fs.writeFile(join(dir, "g"), "x", { signal: controller.signal }))).toBe("ABORT_ERR");
    expect(await outcome(fs.writeFile(join(dir, "g"), 42 as unknown as string))).toBe("ERR_INVALID_ARG_TYPE");
  });

  test("a 3 MiB round trip (larger than the 1 MiB request buffer), also through copyFile", async () => {
    const dir = await scratch();
    const data = randomBytes(3 * 1024 * 1024 + 17);
    await fs.writeFile(join(dir, "big"), data);
    expect((await fs.stat(join(dir, "big"))).size).toBe(data.length);
    const back = await fs.readFile(join(dir, "big"));
    expect(back.length).toBe(data.length);
    expect(back.equals(data)).toBe(true);
    await fs.copyFile(join(dir, "big"), join(dir, "copy"));
    expect((await fs.readFile(join(dir, "copy"))).equals(data)).toBe(true);
    const handle = await fs.open(join(dir, "big"), "r");
    const middle = Buffer.alloc(2 * 1024 * 1024);
    expect((await handle.read(middle, 0, middle.length, 512 * 1024)).bytesRead).toBe(middle.length);
    expect(middle.equals(data.subarray(512 * 1024, 512 * 1024 + middle.length))).toBe(true);
    await handle.close();
  });

  test("appendFile twice creates then appends; errors ENOENT and EISDIR", async () => {
    const dir = await scratch();
    const file = join(dir, "log");
    await fs.appendFile(file, "one\n");
    await fs.appendFile(file, Buffer.from("two\n"));
    expect(await fs.readFile(file, "utf8")).toBe("one\ntwo\n");
    expect((await fsError(fs.appendFile(join(dir, "no/log"), "x"))).code).toBe("ENOENT");
    expect((await fsError(fs.appendFile(dir, "x"))).code).toBe("EISDIR");
  });
});

describe("directories", () => {
  test("readdir: names, withFileTypes, recursive; ENOENT, ENOTDIR", async () => {
    const dir = await scratch();
    await fs.writeFile(join(dir, "file"), "x");
    await fs.mkdir(join(dir, "sub"));
    await fs.writeFile(join(dir, "sub", "inner"), "y");
    await fs.symlink("file", join(dir, "link"));
    expect((await fs.readdir(dir)).sort()).toEqual(["file", "link", "sub"]);
    const entries = await fs.readdir(dir, { withFileTypes: true });
    const byName = Object.fromEntries(entries.map((e) => [e.name, e]));
    expect(byName.file!.isFile()).toBe(true);
    expect(byName.sub!.isDirectory()).toBe(true);
    expect(byName.link!.isSymbolicLink()).toBe(true);
    expect(byName.link!.isFile()).toBe(false);
    expect(byName.file!.parentPath).toBe(dir);
    expect(byName.file!.path).toBe(dir);
    expect((await fs.readdir(dir, { recursive: true })).sort()).toEqual(["file", "link", "sub", "sub/inner"]);
    const deep = await fs.readdir(dir, { recursive: true, withFileTypes: true });
    expect(deep.find((e) => e.name === "inner")?.parentPath).toBe(join(dir, "sub"));
    expect(await fs.readdir(join(dir, "sub"), "utf8")).toEqual(["inner"]);
    expect((await fsError(fs.readdir(join(dir, "missing")))).code).toBe("ENOENT");
    expect((await fsError(fs.readdir(join(dir, "file")))).code).toBe("ENOTDIR");
  });

  test("readdir of a directory with many entries reads every batch", async () => {
    const dir = await scratch();
    const names = Array.from({ length: 600 }, (_, i) => `entry-with-a-longish-name-${i}`);
    for (const name of names) await fs.writeFile(join(dir, name), "");
    expect((await fs.readdir(dir)).sort()).toEqual(names.sort());
  });

  test("mkdir: plain, mode, EEXIST, ENOENT; recursive returns the first directory created", async () => {
    const dir = await scratch();
    expect(await fs.mkdir(join(dir, "a"))).toBeUndefined();
    expect((await fs.stat(join(dir, "a"))).isDirectory()).toBe(true);
    await fs.mkdir(join(dir, "m"), 0o700);
    expect((await fs.stat(join(dir, "m"))).mode & 0o777).toBe(0o700);
    await fs.mkdir(join(dir, "s"), { mode: "750" });
    expect((await fs.stat(join(dir, "s"))).mode & 0o777).toBe(0o750);
    expect((await fsError(fs.mkdir(join(dir, "a")))).code).toBe("EEXIST");
    expect((await fsError(fs.mkdir(join(dir, "x/y")))).code).toBe("ENOENT");
    expect(await fs.mkdir(join(dir, "x/y/z"), { recursive: true })).toBe(join(dir, "x"));
    expect((await fs.stat(join(dir, "x/y/z"))).isDirectory()).toBe(true);
    expect(await fs.mkdir(join(dir, "x/y/z"), { recursive: true })).toBeUndefined();
    expect(await fs.mkdir(join(dir, "x/y/w"), { recursive: true })).toBe(join(dir, "x/y/w"));
    await fs.writeFile(join(dir, "file"), "");
    expect((await fsError(fs.mkdir(join(dir, "file"), { recursive: true }))).code).toBe("EEXIST");
    expect((await fsError(fs.mkdir(join(dir, "file/sub/deeper"), { recursive: true }))).code).toBe("ENOTDIR");
    expect((await fsError(fs.mkdir("/mnt/test/other/x", { recursive: true }))).code).toBe("ENOENT");
  });

  test("mkdtemp makes a unique 0700 directory; ENOENT under a missing directory", async () => {
    const dir = await scratch();
    const one = await fs.mkdtemp(join(dir, "tmp-"));
    const two = await fs.mkdtemp(join(dir, "tmp-"));
    expect(one).not.toBe(two);
    expect(one.startsWith(join(dir, "tmp-"))).toBe(true);
    expect((await fs.stat(one)).mode & 0o777).toBe(0o700);
    expect((await fsError(fs.mkdtemp(join(dir, "missing/tmp-")))).code).toBe("ENOENT");
  });

  test("rm: files, symlinks, trees; force; ERR_FS_EISDIR without recursive; ENOENT", async () => {
    const dir = await scratch();
    await fs.writeFile(join(dir, "keep"), "survives");
    await fs.mkdir(join(dir, "tree/a/b/c"), { recursive: true });
    await fs.writeFile(join(dir, "tree/a/file"), "x");
    await fs.writeFile(join(dir, "tree/a/b/c/deep"), "y");
    await fs.symlink(join(dir, "keep"), join(dir, "tree/a/link-to-keep"));
    await fs.symlink(dir, join(dir, "tree/link-to-parent"));
    const notRecursive = await fsError(fs.rm(join(dir, "tree")));
    expect(notRecursive.code).toBe("ERR_FS_EISDIR");
    expect(notRecursive.errno).toBe(21);
    await fs.rm(join(dir, "tree"), { recursive: true });
    expect((await fsError(fs.stat(join(dir, "tree")))).code).toBe("ENOENT");
    expect(await fs.readFile(join(dir, "keep"), "utf8")).toBe("survives");
    await fs.symlink("keep", join(dir, "l"));
    await fs.rm(join(dir, "l"));
    expect(await fs.readFile(join(dir, "keep"), "utf8")).toBe("survives");
    await fs.rm(join(dir, "keep"));
    expect((await fsError(fs.rm(join(dir, "keep")))).code).toBe("ENOENT");
    await fs.rm(join(dir, "keep"), { force: true });
    await fs.rm(join(dir, "missing/deeper"), { force: true, recursive: true });
    await fs.mkdir(join(dir, "empty"));
    await fs.rm(join(dir, "empty"), { recursive: true, maxRetries: 2, retryDelay: 1 });
    expect(await fs.readdir(dir)).toEqual([]);
  });

  test("rmdir: empty directories only (ENOTEMPTY, ENOENT, ENOTDIR)", async () => {
    const dir = await scratch();
    await fs.mkdir(join(dir, "e"));
    await fs.rmdir(join(dir, "e"));
    await fs.mkdir(join(dir, "full"));
    await fs.writeFile(join(dir, "full/x"), "");
    expect((await fsError(fs.rmdir(join(dir, "full")))).code).toBe("ENOTEMPTY");
    expect((await fsError(fs.rmdir(join(dir, "e")))).code).toBe("ENOENT");
    expect((await fsError(fs.rmdir(join(dir, "full/x")))).code).toBe("ENOTDIR");
  });
});

describe("names and links", () => {
  test("rename: files and directories; ENOENT, ENOTEMPTY, EISDIR", async () => {
    const dir = await scratch();
    await fs.writeFile(join(dir, "a"), "A");
    await fs.rename(join(dir, "a"), join(dir, "b"));
    expect(await fs.readFile(join(dir, "b"), "utf8")).toBe("A");
    await fs.writeFile(join(dir, "c"), "C");
    await fs.rename(join(dir, "c"), join(dir, "b")); // replaces
    expect(await fs.readFile(join(dir, "b"), "utf8")).toBe("C");
    await fs.mkdir(join(dir, "d1"));
    await fs.mkdir(join(dir, "d2/x"), { recursive: true });
    await fs.rename(join(dir, "d1"), join(dir, "d3"));
    expect((await fsError(fs.rename(join(dir, "a"), join(dir, "z")))).code).toBe("ENOENT");
    expect((await fsError(fs.rename(join(dir, "d3"), join(dir, "d2")))).code).toBe("ENOTEMPTY");
    expect((await fsError(fs.rename(join(dir, "b"), join(dir, "d3")))).code).toBe("EISDIR");
  });

  test("unlink: files and symlinks; ENOENT, EISDIR", async () => {
    const dir = await scratch();
    await fs.writeFile(join(dir, "f"), "");
    await fs.unlink(join(dir, "f"));
    expect((await fsError(fs.unlink(join(dir, "f")))).code).toBe("ENOENT");
    expect((await fsError(fs.unlink(dir))).code).toBe("EISDIR");
  });

  test("symlink and readlink; EEXIST, EINVAL, ENOENT", async () => {
    const dir = await scratch();
    await fs.writeFile(join(dir, "target"), "T");
    await fs.symlink("target", join(dir, "rel"));
    await fs.symlink("/nowhere/at/all", join(dir, "dangling"), "file");
    expect(await fs.readlink(join(dir, "rel"))).toBe("target");
    expect(await fs.readlink(join(dir, "dangling"))).toBe("/nowhere/at/all");
    expect(await fs.readFile(join(dir, "rel"), "utf8")).toBe("T");
    expect((await fsError(fs.symlink("x", join(dir, "target")))).code).toBe("EEXIST");
    expect((await fsError(fs.readlink(join(dir, "target")))).code).toBe("EINVAL");
    expect((await fsError(fs.readlink(join(dir, "missing")))).code).toBe("ENOENT");
    expect((await fsError(fs.symlink("x", join(dir, "missing/l")))).code).toBe("ENOENT");
  });

  test("link: a second name with nlink 2; EEXIST, ENOENT", async () => {
    const dir = await scratch();
    await fs.writeFile(join(dir, "a"), "shared");
    await fs.link(join(dir, "a"), join(dir, "b"));
    expect(await fs.readFile(join(dir, "b"), "utf8")).toBe("shared");
    const [a, b] = [await fs.stat(join(dir, "a")), await fs.stat(join(dir, "b"))];
    expect(a.ino).toBe(b.ino);
    expect(a.nlink).toBe(2);
    expect((await fsError(fs.link(join(dir, "a"), join(dir, "b")))).code).toBe("EEXIST");
    expect((await fsError(fs.link(join(dir, "missing"), join(dir, "c")))).code).toBe("ENOENT");
  });

  test("copyFile: copies contents and mode, replaces; COPYFILE_EXCL gives EEXIST; ENOENT, EISDIR", async () => {
    const dir = await scratch();
    await fs.writeFile(join(dir, "src"), "source", { mode: 0o640 });
    await fs.chmod(join(dir, "src"), 0o640);
    await fs.copyFile(join(dir, "src"), join(dir, "dst"));
    expect(await fs.readFile(join(dir, "dst"), "utf8")).toBe("source");
    expect((await fs.stat(join(dir, "dst"))).mode & 0o777).toBe(0o640);
    await fs.writeFile(join(dir, "src"), "new");
    await fs.copyFile(join(dir, "src"), join(dir, "dst"));
    expect(await fs.readFile(join(dir, "dst"), "utf8")).toBe("new");
    expect((await fsError(fs.copyFile(join(dir, "src"), join(dir, "dst"), constants.COPYFILE_EXCL))).code).toBe("EEXIST");
    expect(await fs.readFile(join(dir, "dst"), "utf8")).toBe("new");
    await fs.copyFile(join(dir, "src"), join(dir, "fresh"), constants.COPYFILE_EXCL);
    await fs.copyFile(join(dir, "src"), join(dir, "src"));
    expect(await fs.readFile(join(dir, "src"), "utf8")).toBe("new");
    await fs.writeFile(join(dir, "empty"), "");
    await fs.copyFile(join(dir, "empty"), join(dir, "empty-copy"));
    expect((await fs.stat(join(dir, "empty-copy"))).size).toBe(0);
    expect((await fsError(fs.copyFile(join(dir, "missing"), join(dir, "x")))).code).toBe("ENOENT");
    expect((await fsError(fs.copyFile(dir, join(dir, "x")))).code).toBe("EISDIR");
    expect((await fsError(fs.copyFile(join(dir, "src"), join(dir, "no/x")))).code).toBe("ENOENT");
    expect((await fsError(fs.copyFile(join(dir, "src"), join(dir, "y"), constants.COPYFILE_FICLONE_FORCE))).code).toBe("EOPNOTSUPP");
  });
});

describe("metadata", () => {
  test("stat and lstat: Node-like Stats; ENOENT, ENOTDIR", async () => {
    const dir = await scratch();
    await fs.writeFile(join(dir, "f"), "12345");
    await fs.symlink("f", join(dir, "l"));
    const stat = await fs.stat(join(dir, "f"));
    expect(stat).toBeInstanceOf(Stats);
    expect(stat.isFile()).toBe(true);
    expect(stat.isDirectory()).toBe(false);
    expect(stat.size).toBe(5);
    expect(stat.nlink).toBe(1);
    expect(stat.uid).toBe(process.getuid!());
    expect(stat.ino).toBeGreaterThan(0);
    expect(stat.blksize).toBeGreaterThan(0);
    expect(stat.blocks).toBeGreaterThanOrEqual(0);
    expect(typeof stat.dev).toBe("number");
    expect(Math.abs(stat.mtimeMs - Date.now())).toBeLessThan(60_000);
    expect(stat.mtime).toBeInstanceOf(Date);
    expect(Math.abs(stat.mtime.getTime() - stat.mtimeMs)).toBeLessThan(1);
    expect(Math.abs(stat.atime.getTime() - stat.atimeMs)).toBeLessThan(1);
    expect(Math.abs(stat.ctime.getTime() - stat.ctimeMs)).toBeLessThan(1);
    expect((await fs.stat(join(dir, "l"))).isFile()).toBe(true);
    const link = await fs.lstat(join(dir, "l"));
    expect(link.isSymbolicLink()).toBe(true);
    expect(link.size).toBe(1);
    expect((await fs.stat(dir)).isDirectory()).toBe(true);
    expect((await fsError(fs.stat(join(dir, "missing")))).code).toBe("ENOENT");
    expect((await fsError(fs.lstat(join(dir, "missing")))).code).toBe("ENOENT");
    expect((await fsError(fs.stat(join(dir, "f/x")))).code).toBe("ENOTDIR");
    expect(await outcome(fs.stat(join(dir, "f"), { bigint: true } as never))).toBe("ERR_METHOD_NOT_IMPLEMENTED");
  });

  test("access: F_OK and R_OK/W_OK; ENOENT", async () => {
    const dir = await scratch();
    await fs.writeFile(join(dir, "f"), "");
    await fs.access(join(dir, "f"));
    await fs.access(join(dir, "f"), constants.R_OK | constants.W_OK);
    expect((await fsError(fs.access(join(dir, "missing")))).code).toBe("ENOENT");
    expect((await fsError(fs.access(join(dir, "missing"), constants.R_OK))).code).toBe("ENOENT");
  });

  test("chmod: numbers and octal strings; ENOENT", async () => {
    const dir = await scratch();
    await fs.writeFile(join(dir, "f"), "");
    await fs.chmod(join(dir, "f"), 0o604);
    expect((await fs.stat(join(dir, "f"))).mode & 0o7777).toBe(0o604);
    await fs.chmod(join(dir, "f"), "751");
    expect((await fs.stat(join(dir, "f"))).mode & 0o7777).toBe(0o751);
    expect((await fsError(fs.chmod(join(dir, "missing"), 0o600))).code).toBe("ENOENT");
  });

  test("chown and lchown to the current owner (and to another uid when root); ENOENT", async () => {
    const dir = await scratch();
    const uid = process.getuid!();
    const gid = process.getgid!();
    await fs.writeFile(join(dir, "f"), "");
    await fs.symlink("f", join(dir, "l"));
    await fs.chown(join(dir, "f"), uid, gid);
    await fs.lchown(join(dir, "l"), uid, gid);
    await fs.chown(join(dir, "f"), -1, -1);
    if (uid === 0) {
      await fs.lchown(join(dir, "l"), 4321, 4321);
      expect((await fs.lstat(join(dir, "l"))).uid).toBe(4321);
      expect((await fs.stat(join(dir, "l"))).uid).toBe(0);
      await fs.chown(join(dir, "l"), 1234, 1235);
      const stat = await fs.stat(join(dir, "f"));
      expect([stat.uid, stat.gid]).toEqual([1234, 1235]);
    }
    expect((await fsError(fs.chown(join(dir, "missing"), uid, gid))).code).toBe("ENOENT");
    expect((await fsError(fs.lchown(join(dir, "missing"), uid, gid))).code).toBe("ENOENT");
  });

  test("utimes and lutimes: seconds, fractions and Dates; ENOENT", async () => {
    const dir = await scratch();
    await fs.writeFile(join(dir, "f"), "");
    await fs.utimes(join(dir, "f"), 1_000_000, 2_000_000.5);
    let stat = await fs.stat(join(dir, "f"));
    expect(stat.atimeMs).toBe(1_000_000_000);
    expect(stat.mtimeMs).toBe(2_000_000_500);
    await fs.utimes(join(dir, "f"), new Date("2020-01-02T03:04:05.678Z"), "1234");
    stat = await fs.stat(join(dir, "f"));
    expect(stat.atime.toISOString()).toBe("2020-01-02T03:04:05.678Z");
    expect(stat.mtimeMs).toBe(1_234_000);
    await fs.symlink("f", join(dir, "l"));
    await fs.lutimes(join(dir, "l"), 5, 6);
    expect((await fs.lstat(join(dir, "l"))).mtimeMs).toBe(6000);
    expect((await fs.stat(join(dir, "l"))).mtimeMs).toBe(1_234_000);
    expect((await fsError(fs.utimes(join(dir, "missing"), 1, 1))).code).toBe("ENOENT");
    expect(await outcome(fs.utimes(join(dir, "f"), {} as never, 1))).toBe("ERR_INVALID_ARG_TYPE");
  });

  test("truncate: shrink, grow with zeros, default 0; ENOENT, EISDIR", async () => {
    const dir = await scratch();
    await fs.writeFile(join(dir, "f"), "0123456789");
    await fs.truncate(join(dir, "f"), 4);
    expect(await fs.readFile(join(dir, "f"), "utf8")).toBe("0123");
    await fs.truncate(join(dir, "f"), 6);
    expect([...(await fs.readFile(join(dir, "f")))]).toEqual([48, 49, 50, 51, 0, 0]);
    await fs.truncate(join(dir, "f"));
    expect((await fs.stat(join(dir, "f"))).size).toBe(0);
    expect((await fsError(fs.truncate(join(dir, "missing"), 1))).code).toBe("ENOENT");
    expect((await fsError(fs.truncate(dir))).code).toBe("EISDIR");
  });

  test("statfs: block and inode counts; ENOENT", async () => {
    const dir = await scratch();
    const stat = await fs.statfs(dir);
    expect(stat.bsize).toBeGreaterThan(0);
    expect(stat.blocks).toBeGreaterThan(0);
    expect(stat.bavail).toBeLessThanOrEqual(stat.blocks);
    expect((await fsError(fs.statfs(join(dir, "missing")))).code).toBe("ENOENT");
  });
});

describe("facade", () => {
  test("methods are bound, constants are exported, paths may be URLs, Buffers, or relative to the client's cwd", async () => {
    const dir = await scratch();
    const { writeFile, readFile } = fs;
    await writeFile(join(dir, "f"), "bound");
    expect(await readFile(new URL(`file://${join(dir, "f")}`), "utf8")).toBe("bound");
    expect(await readFile(Buffer.from(join(dir, "f")), "utf8")).toBe("bound");
    expect(fs.constants.COPYFILE_EXCL).toBe(constants.COPYFILE_EXCL);
    const inDir = DanausClient.connect({ socket: join(harness.dir, "state/run/alpha/router.sock"), cwd: dir });
    try {
      const relative = promises(inDir);
      expect(await relative.readFile("f", "utf8")).toBe("bound");
      expect(await relative.mkdir("r/s", { recursive: true })).toBe(join(dir, "r"));
      expect(await relative.readdir(".")).toContain("r");
    } finally {
      inDir.disconnect();
    }
    expect((await fsError(fs.readFile("/not/a/mount/file"))).code).toBe("ENOENT");
    expect(await outcome(fs.readFile(42 as never))).toBe("ERR_INVALID_ARG_TYPE");
  });
});

/** What a scenario sees: a list of [step, result or error code]. */
type Log = [string, unknown][];

/**
 * One sequence of calls, run on node:fs/promises and on the danaus facade; both must log the same results. Typed
 * against Node's module so that the very same code drives both.
 */
async function scenario(fsp: typeof nodeFs, root: string): Promise<Log> {
  const log: Log = [];
  const p = (name: string) => join(root, name);
  const step = async (name: string, run: () => Promise<unknown>) => {
    try {
      // Bun's node:fs/promises resolves some void calls (access) with null where Node documents undefined.
      log.push([name, (await run()) ?? undefined]);
    } catch (error) {
      log.push([name, `error ${(error as { code?: string }).code}`]);
    }
  };
  await step("writeFile", () => fsp.writeFile(p("a.txt"), "hello"));
  await step("appendFile 1", () => fsp.appendFile(p("a.txt"), " world"));
  await step("appendFile 2", () => fsp.appendFile(p("a.txt"), "!"));
  await step("readFile", () => fsp.readFile(p("a.txt"), "utf8"));
  await step("readFile missing", () => fsp.readFile(p("missing")));
  await step("readFile dir", () => fsp.readFile(root));
  await step("mkdir", () => fsp.mkdir(p("d")));
  await step("mkdir again", () => fsp.mkdir(p("d")));
  await step("mkdir no parent", () => fsp.mkdir(p("d/x/y")));
  await step("mkdir recursive", async () => (await fsp.mkdir(p("d/x/y"), { recursive: true }))?.slice(root.length));
  await step("mkdir recursive existing", () => fsp.mkdir(p("d/x"), { recursive: true }));
  await step("mkdir recursive on file", () => fsp.mkdir(p("a.txt"), { recursive: true }));
  await step("mkdir recursive under file", () => fsp.mkdir(p("a.txt/z"), { recursive: true }));
  await step("readdir", async () => (await fsp.readdir(root)).sort());
  await step("readdir types", async () =>
    (await fsp.readdir(root, { withFileTypes: true }))
      .map((e) => [e.name, e.isFile(), e.isDirectory(), e.isSymbolicLink(), e.parentPath.slice(root.length)])
      .sort(),
  );
  await step("readdir recursive", async () => (await fsp.readdir(root, { recursive: true })).sort());
  await step("readdir file", () => fsp.readdir(p("a.txt")));
  await step("symlink", () => fsp.symlink("a.txt", p("l")));
  await step("symlink exists", () => fsp.symlink("a.txt", p("l")));
  await step("readlink", () => fsp.readlink(p("l")));
  await step("readlink file", () => fsp.readlink(p("a.txt")));
  await step("lstat link", async () => (await fsp.lstat(p("l"))).isSymbolicLink());
  await step("stat link", async () => [(await fsp.stat(p("l"))).size, (await fsp.stat(p("l"))).isFile()]);
  await step("rmdir not empty", () => fsp.rmdir(p("d")));
  await step("rm dir", () => fsp.rm(p("d")));
  await step("rm recursive", () => fsp.rm(p("d"), { recursive: true }));
  await step("rm missing", () => fsp.rm(p("d")));
  await step("rm missing force", () => fsp.rm(p("d"), { force: true }));
  await step("rename", () => fsp.rename(p("a.txt"), p("b.txt")));
  await step("rename missing", () => fsp.rename(p("a.txt"), p("c.txt")));
  await step("copyFile", () => fsp.copyFile(p("b.txt"), p("c.txt")));
  await step("copyFile excl", () => fsp.copyFile(p("b.txt"), p("c.txt"), constants.COPYFILE_EXCL));
  await step("copyFile missing", () => fsp.copyFile(p("missing"), p("e.txt")));
  await step("readFile copy", () => fsp.readFile(p("c.txt"), "utf8"));
  await step("unlink", () => fsp.unlink(p("c.txt")));
  await step("unlink again", () => fsp.unlink(p("c.txt")));
  await step("unlink dir", () => fsp.unlink(root));
  await step("access", () => fsp.access(p("b.txt")));
  await step("access missing", () => fsp.access(p("missing")));
  await step("truncate", () => fsp.truncate(p("b.txt"), 5));
  await step("size", async () => (await fsp.stat(p("b.txt"))).size);
  await step("open wx", () => fsp.open(p("b.txt"), "wx"));
  await step("handle", async () => {
    const handle = await fsp.open(p("b.txt"), "r+");
    try {
      const wrote = await handle.write(Buffer.from("XY"), 0, 2, 1);
      const read = await handle.read(Buffer.alloc(10), 0, 10, 0);
      return [wrote.bytesWritten, read.bytesRead, read.buffer.subarray(0, read.bytesRead).toString(), (await handle.stat()).size];
    } finally {
      await handle.close();
    }
  });
  await step("link", () => fsp.link(p("b.txt"), p("h.txt")));
  await step("link exists", () => fsp.link(p("b.txt"), p("h.txt")));
  await step("nlink", async () => (await fsp.stat(p("h.txt"))).nlink);
  await step("utimes", () => fsp.utimes(p("b.txt"), 1000, new Date(2_000_500)));
  await step("times", async () => [(await fsp.stat(p("b.txt"))).atimeMs, (await fsp.stat(p("b.txt"))).mtimeMs]);
  await step("utimes missing", () => fsp.utimes(p("missing"), 1, 1));
  await step("chmod", () => fsp.chmod(p("b.txt"), 0o640));
  await step("mode", async () => (await fsp.stat(p("b.txt"))).mode & 0o7777);
  await step("chmod missing", () => fsp.chmod(p("missing"), 0o640));
  await step("final tree", async () => (await fsp.readdir(root, { recursive: true })).sort());
  return log;
}

describe("compared with node:fs/promises", () => {
  test("the same calls give the same results and error codes", async () => {
    const local = await nodeFs.mkdtemp(join(tmpdir(), "danaus-promises-"));
    try {
      const expected = await scenario(nodeFs, local);
      const actual = await scenario(fs as unknown as typeof nodeFs, await scratch());
      expect(actual).toEqual(expected);
      expect(expected.filter(([, result]) => String(result).startsWith("error")).length).toBeGreaterThan(10);
    } finally {
      await nodeFs.rm(local, { recursive: true, force: true });
    }
  });
});
