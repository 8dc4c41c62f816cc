/** @module test/services/union/union-file-system — whiteouts, opaque directories, copy-up attributes, merged readdir and handles shared by two threads. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync, chownSync, chmodSync, lutimesSync } from "node:fs";
import { constants } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend } from "../../../services/client-cache/backend/index.ts";
import { makedev, type FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import { createUnionShared, UnionFileSystem, type UnionOptions, type UnionShared } from "../../../services/union/index.ts";
import {
  bytes, expectErrno, listNames, O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, readFile, writeFile,
} from "../../conformance/harness.ts";
import type { UnionWorkerReply, UnionWorkerRequest } from "./union-worker.ts";

const { S_IFIFO, S_IFSOCK, S_IFDIR } = constants;

interface Setup {
  base: string;
  upper: string;
  lowers: string[];
  backends: LocalBackend[];
  shared: UnionShared;
  fs: UnionFileSystem;
}

let setup: Setup;

/** A union over an empty upper and two lowers, after `fill(lowerA, lowerB)` built the lowers on disk. */
function build(fill: (a: string, b: string) => void, options: UnionOptions = {}): UnionFileSystem {
  const [a, b] = setup.lowers as [string, string];
  fill(a, b);
  const upper = new LocalBackend(setup.upper);
  const lowers = setup.lowers.map((root) => new LocalBackend(root));
  setup.backends.push(upper, ...lowers);
  setup.fs = new UnionFileSystem({ upper, lowers }, setup.shared, options);
  return setup.fs;
}

beforeEach(() => {
  const base = mkdtempSync(join(tmpdir(), "danaus-union-unit-"));
  const lowers = [join(base, "lower-a"), join(base, "lower-b")];
  for (const dir of [join(base, "upper"), ...lowers]) mkdirSync(dir, { recursive: true });
  setup = { base, upper: join(base, "upper"), lowers, backends: [], shared: createUnionShared({ maxDirHandles: 8 }), fs: undefined as unknown as UnionFileSystem };
});

afterEach(() => {
  for (const backend of setup.backends) backend.dispose();
  rmSync(setup.base, { recursive: true, force: true });
});


/** Names on disk in the upper's `dir`. */
function upperNames(dir = ""): string[] {
  return readdirSync(join(setup.upper, dir)).sort();
}

describe("lookup and whiteouts", () => {
  test("the first branch holding a name wins; a higher non-directory hides a lower directory", () => {
    const fs = build((a, b) => {
      writeFileSync(join(a, "f"), "from a");
      writeFileSync(join(b, "f"), "from b");
      writeFileSync(join(a, "x"), "file");
      mkdirSync(join(b, "x"));
      writeFileSync(join(b, "x", "y"), "hidden");
    });
    expect(readFile(fs, "f")).toBe("from a");
    expect(listNames(fs, "")).toEqual(["f", "x"]);
    expectErrno("ENOTDIR", () => fs.stat("x/y"));
  });

  test("the bottom layer of a directory is never asked for a whiteout or an opaque marker: they would hide nothing", () => {
    const [a, b] = setup.lowers as [string, string];
    mkdirSync(join(a, "etc"));
    writeFileSync(join(a, "etc", "only-a"), "a");
    mkdirSync(join(b, "etc"));
    writeFileSync(join(b, "etc", "f"), "from b");
    mkdirSync(join(b, "usr"));
    writeFileSync(join(b, "usr", "g"), "g");
    const upper = new LocalBackend(setup.upper);
    const [top, bottom] = setup.lowers.map((root) => new LocalBackend(root)) as [LocalBackend, LocalBackend];
    setup.backends.push(upper, top, bottom);
    // On CephFS each of these lookups of a missing name is an MDS round trip.
    const asked: string[] = [];
    const recorded = new Proxy(bottom, {
      get(target, prop) {
        if (prop === "lstat") return (path: string) => (asked.push(path), target.lstat(path));
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const fs = new UnionFileSystem({ upper, lowers: [top, recorded] }, setup.shared);
    expect(readFile(fs, "etc/f")).toBe("from b");
    expect(readFile(fs, "usr/g")).toBe("g");
    fs.mkdir("p", 0o755);
    writeFile(fs, "p/new", "n");
    fs.unlink("p/new");
    expectErrno("ENOENT", () => fs.stat("q"));
    expect(asked.filter((path) => path.split("/").pop()!.startsWith(".wh."))).toEqual([]);
    // The layer above is still asked: its whiteout hides the bottom's name (lowers do not change under a mounted
    // union, so the layer gets its whiteout before a union is made over it again).
    writeFileSync(join(a, ".wh.usr"), "");
    const again = new UnionFileSystem({ upper, lowers: [top, recorded] }, setup.shared);
    expectErrno("ENOENT", () => again.stat("usr/g"));
  });

  test("a lower whiteout hides the name below it, not beside it; whiteouts are never listed", () => {
    const fs = build((a, b) => {
      writeFileSync(join(a, ".wh.gone"), "");
      writeFileSync(join(b, "gone"), "below");
      writeFileSync(join(a, ".wh.kept"), "");
      writeFileSync(join(a, "kept"), "beside");
    });
    expectErrno("ENOENT", () => fs.stat("gone"));
    expect(readFile(fs, "kept")).toBe("beside");
    expect(listNames(fs, "")).toEqual(["kept"]);
  });

  test("unlink of a lower file leaves a whiteout in the upper; creating it again removes the whiteout", () => {
    const fs = build((a) => writeFileSync(join(a, "f"), "lower"));
    fs.unlink("f");
    expectErrno("ENOENT", () => fs.stat("f"));
    expect(upperNames()).toEqual([".wh.f"]);
    expect(listNames(fs, "")).toEqual([]);
    expect(readFileSync(join(setup.lowers[0]!, "f"), "utf8")).toBe("lower");
    writeFile(fs, "f", "new");
    expect(readFile(fs, "f")).toBe("new");
    expect(upperNames()).toEqual(["f"]);
    fs.unlink("f");
    expect(upperNames()).toEqual([".wh.f"]);
  });

  test("mknod over a whiteout makes the name visible again and drops the whiteout; over a lower name: EEXIST", () => {
    const fs = build((a) => {
      writeFileSync(join(a, "f"), "lower");
      writeFileSync(join(a, "g"), "lower");
    });
    fs.unlink("f");
    expect(upperNames()).toEqual([".wh.f"]);
    fs.mknod("f", S_IFIFO | 0o600, 0);
    expect(lstatSync(join(setup.upper, "f")).isFIFO()).toBe(true);
    expect(upperNames()).toEqual(["f"]);
    expect(listNames(fs, "")).toEqual(["f", "g"]);
    expectErrno("EEXIST", () => fs.mknod("g", S_IFSOCK | 0o600, 0));
    expectErrno("EINVAL", () => fs.mknod(".wh.g", S_IFIFO | 0o600, 0));
    expectErrno("EPERM", () => fs.mknod("c", S_IFDIR | 0o700, 0));
    expect(upperNames()).toEqual(["f"]);
  });

  test("rmdir of a merged directory that only looks empty whites it out; mkdir over the whiteout is opaque", () => {
    const fs = build((a, b) => {
      mkdirSync(join(a, "d"));
      writeFileSync(join(a, "d", "one"), "1");
      mkdirSync(join(b, "d"));
      writeFileSync(join(b, "d", "two"), "2");
    });
    expect(listNames(fs, "d")).toEqual(["one", "two"]);
    expectErrno("ENOTEMPTY", () => fs.rmdir("d"));
    fs.unlink("d/one");
    expectErrno("ENOTEMPTY", () => fs.rmdir("d"));
    fs.unlink("d/two");
    expect(listNames(fs, "d")).toEqual([]);
    fs.rmdir("d");
    expectErrno("ENOENT", () => fs.stat("d"));
    expect(upperNames()).toEqual([".wh.d"]);
    fs.mkdir("d", 0o755);
    expect(listNames(fs, "d")).toEqual([]);
    expect(upperNames()).toEqual(["d"]);
    expect(upperNames("d")).toEqual([".wh..wh..opq"]);
    expectErrno("ENOENT", () => fs.stat("d/one"));
  });

  test("an opaque lower directory hides the directories below it", () => {
    const fs = build((a, b) => {
      mkdirSync(join(a, "d"));
      writeFileSync(join(a, "d", ".wh..wh..opq"), "");
      writeFileSync(join(a, "d", "mine"), "");
      mkdirSync(join(b, "d"));
      writeFileSync(join(b, "d", "theirs"), "");
    });
    expect(listNames(fs, "d")).toEqual(["mine"]);
    expectErrno("ENOENT", () => fs.stat("d/theirs"));
  });

  test("names starting with .wh. cannot be created, opened, stat'ed, renamed to or linked to: EINVAL", () => {
    const fs = build((a) => writeFileSync(join(a, ".wh.x"), ""));
    writeFile(fs, "f", "");
    fs.mkdir("d", 0o755);
    expectErrno("EINVAL", () => fs.open(".wh.new", O_CREAT | O_WRONLY, 0o644));
    expectErrno("EINVAL", () => fs.open(".wh.x", O_RDONLY, 0));
    expectErrno("EINVAL", () => fs.stat(".wh.x"));
    expectErrno("EINVAL", () => fs.lstat("d/.wh..wh..opq"));
    expectErrno("EINVAL", () => fs.mkdir(".wh.d", 0o755));
    expectErrno("EINVAL", () => fs.rename("f", ".wh.f", 0));
    expectErrno("EINVAL", () => fs.link("f", ".wh.g"));
    expectErrno("EINVAL", () => fs.symlink("f", ".wh.l"));
    expectErrno("EINVAL", () => fs.unlink(".wh.x"));
  });
});

describe("rename", () => {
  test("a lower file is copied up, renamed, and its old name whited out", () => {
    const fs = build((a) => writeFileSync(join(a, "f"), "content"));
    fs.rename("f", "g", 0);
    expect(readFile(fs, "g")).toBe("content");
    expectErrno("ENOENT", () => fs.stat("f"));
    expect(upperNames()).toEqual([".wh.f", "g"]);
  });

  test('renameDir = "exdev": a lower or merged directory answers EXDEV; a directory only in the upper moves', () => {
    const fs = build((a, b) => {
      mkdirSync(join(a, "lower"));
      mkdirSync(join(a, "merged"));
      mkdirSync(join(b, "merged"));
    }, { renameDir: "exdev" });
    expectErrno("EXDEV", () => fs.rename("lower", "elsewhere", 0));
    fs.chmod("merged", 0o700);
    expectErrno("EXDEV", () => fs.rename("merged", "elsewhere", 0));
    fs.mkdir("mine", 0o755);
    writeFile(fs, "mine/f", "x");
    fs.rename("mine", "moved", 0);
    expect(readFile(fs, "moved/f")).toBe("x");
  });

  test("a directory moved over a lower directory's whiteout becomes opaque", () => {
    const fs = build((a) => {
      mkdirSync(join(a, "d"));
      writeFileSync(join(a, "d", "old"), "");
    });
    fs.unlink("d/old");
    fs.rmdir("d");
    fs.mkdir("mine", 0o755);
    fs.rename("mine", "d", 0);
    expect(listNames(fs, "d")).toEqual([]);
    expect(upperNames()).toEqual(["d"]);
  });
});

describe("copy-up", () => {
  test("preserves mode, owner, times and the parents' modes; the lower is never written", () => {
    const root = process.getuid?.() === 0;
    const fs = build((a) => {
      mkdirSync(join(a, "p", "q"), { recursive: true });
      chmodSync(join(a, "p"), 0o750);
      chmodSync(join(a, "p", "q"), 0o710);
      writeFileSync(join(a, "p", "q", "f"), "data");
      chmodSync(join(a, "p", "q", "f"), 0o640);
      symlinkSync("f", join(a, "p", "q", "l"));
      if (root) {
        chownSync(join(a, "p"), 1234, 5678);
        chownSync(join(a, "p", "q", "f"), 2345, 6789);
      }
      utimesSync(join(a, "p", "q", "f"), 1_000_000, 1_500_000);
      lutimesSync(join(a, "p", "q", "l"), 1_000_000, 1_600_000);
    });
    const fd = fs.open("p/q/f", O_RDWR, 0);
    fs.pwrite(fd, bytes("D"), 0);
    fs.close(fd);
    const up = lstatSync(join(setup.upper, "p", "q", "f"));
    expect(up.mode & 0o7777).toBe(0o640);
    expect(readFileSync(join(setup.upper, "p", "q", "f"), "utf8")).toBe("Data");
    expect(readFileSync(join(setup.lowers[0]!, "p", "q", "f"), "utf8")).toBe("data");
    expect(lstatSync(join(setup.upper, "p")).mode & 0o7777).toBe(0o750);
    expect(lstatSync(join(setup.upper, "p", "q")).mode & 0o7777).toBe(0o710);
    if (root) {
      expect([up.uid, up.gid]).toEqual([2345, 6789]);
      expect(lstatSync(join(setup.upper, "p")).uid).toBe(1234);
    }
    fs.chown("p/q/l", -1, -1, 0x100);
    const link = lstatSync(join(setup.upper, "p", "q", "l"));
    expect(link.isSymbolicLink()).toBe(true);
    expect(Math.round(link.mtimeMs / 1000)).toBe(1_600_000);
    expect(fs.readlink("p/q/l")).toBe("f");
    expect(upperNames("p/q")).toEqual(["f", "l"]);
  });

  test("times are preserved; O_TRUNC copies no data; truncate and chmod copy up", () => {
    const fs = build((a) => {
      writeFileSync(join(a, "t"), "old content");
      writeFileSync(join(a, "u"), "0123456789");
      writeFileSync(join(a, "m"), "m");
      utimesSync(join(a, "m"), 1_000_000, 1_200_000);
    });
    fs.close(fs.open("t", O_WRONLY | O_TRUNC, 0));
    expect(readFile(fs, "t")).toBe("");
    fs.truncate("u", 4);
    expect(readFile(fs, "u")).toBe("0123");
    fs.chmod("m", 0o600);
    expect(fs.stat("m").st_mtime_sec).toBe(1_200_000);
    expect(fs.stat("m").st_mode & 0o7777).toBe(0o600);
    expect(upperNames()).toEqual(["m", "t", "u"]);
    expect(readFileSync(join(setup.lowers[0]!, "u"), "utf8")).toBe("0123456789");
  });

  test("a lower FIFO is copied up by mknod (chmod, utimens); as root, a lower device with its number", () => {
    const root = process.getuid?.() === 0;
    const fs = build((a) => {
      mkdirSync(join(a, "d"));
      expect(spawnSync("mkfifo", ["-m", "0640", join(a, "d", "p")]).status).toBe(0);
      utimesSync(join(a, "d", "p"), 1_000_000, 1_300_000);
      if (root) expect(spawnSync("mknod", [join(a, "null"), "c", "1", "3"]).status).toBe(0);
    });
    fs.chmod("d/p", 0o600);
    const up = lstatSync(join(setup.upper, "d", "p"));
    expect(up.isFIFO()).toBe(true);
    expect(up.mode & 0o7777).toBe(0o600);
    expect(Math.round(up.mtimeMs / 1000)).toBe(1_300_000);
    expect(lstatSync(join(setup.lowers[0]!, "d", "p")).mode & 0o7777).toBe(0o640);
    expect(upperNames("d")).toEqual(["p"]);
    if (root) {
      fs.chmod("null", 0o600);
      const device = lstatSync(join(setup.upper, "null"));
      expect(device.isCharacterDevice()).toBe(true);
      expect(device.rdev).toBe(makedev(1, 3));
      expect(device.mode & 0o7777).toBe(0o600);
      expect(upperNames()).toEqual(["d", "null"]);
      // The copy is a name, never the device: opening it through the union is refused.
      expectErrno("EACCES", () => fs.open("null", O_RDONLY, 0));
    }
  });

  test("a read-only open does not copy up; st_ino changes on copy-up", () => {
    const fs = build((a) => writeFileSync(join(a, "f"), "x"));
    const before = fs.stat("f").st_ino;
    fs.close(fs.open("f", O_RDONLY, 0));
    expect(upperNames()).toEqual([]);
    fs.close(fs.open("f", O_RDWR, 0));
    expect(upperNames()).toEqual(["f"]);
    expect(fs.stat("f").st_ino).not.toBe(before);
  });
});

describe("readdir", () => {
  test("a merged listing continued from a cookie skips and repeats nothing while the directory changes", () => {
    const fs = build((a, b) => {
      mkdirSync(join(a, "d"));
      mkdirSync(join(b, "d"));
      for (let i = 0; i < 400; i++) writeFileSync(join(i % 2 ? a : b, "d", `n${i}`), "");
    });
    const fd = fs.open("d", O_RDONLY | O_DIRECTORY, 0);
    const seen: string[] = [];
    let cookie = 0;
    for (let round = 0; ; round++) {
      const batch = fs.readdir(fd, cookie);
      if (batch.length === 0) break;
      seen.push(...batch.map((entry) => entry.name));
      cookie = batch[batch.length - 1]!.next;
      writeFile(fs, `d/added${round}`, "");
    }
    fs.close(fd);
    const original = seen.filter((name) => name.startsWith("n"));
    expect(new Set(seen).size).toBe(seen.length);
    expect(original.length).toBe(400);
  });
});

describe("handles across threads", () => {
  test("a file handle and a directory handle opened in one thread work and close in another", async () => {
    const fs = build((a) => {
      writeFileSync(join(a, "f"), "shared content");
      mkdirSync(join(a, "d"));
      writeFileSync(join(a, "d", "lower"), "");
    });
    writeFile(fs, "d/upper", "");
    const file = fs.open("f", O_RDONLY, 0);
    const dir = fs.open("d", O_RDONLY | O_DIRECTORY, 0);
    const worker = new Worker(new URL("./union-worker.ts", import.meta.url).href);
    try {
      const reply = await new Promise<UnionWorkerReply>((resolve, reject) => {
        worker.onmessage = (event: MessageEvent<UnionWorkerReply>) => resolve(event.data);
        worker.onerror = (event) => reject(new Error(event.message));
        const request: UnionWorkerRequest = { kind: "handles", upper: setup.upper, lowers: setup.lowers, shared: setup.shared, file, dir };
        worker.postMessage(request);
      });
      if (!reply.ok) throw new Error(reply.error);
      expect(reply.content).toBe("shared content");
      expect(reply.names).toEqual(["lower", "upper"]);
      expectErrno("EBADF", () => fs.readdir(dir, 0));
      expectErrno("EBADF", () => fs.close(dir));
      expect(listNames(fs, "")).toEqual(["d", "f"]);
      const opened = reply.opened!;
      expect(fs.readdir(opened, 0).map((entry) => entry.name).sort()).toEqual(["d", "f"]);
      fs.close(opened);
      expect(existsSync(join(setup.upper, "d", "upper"))).toBe(true);
    } finally {
      worker.terminate();
    }
  });

  test("two threads copying up the same files at once: one copy wins and keeps both threads' writes", async () => {
    const paths = Array.from({ length: 100 }, (_, i) => `f${i}`);
    const fs = build((a) => {
      for (const path of paths) writeFileSync(join(a, path), Buffer.alloc(256 << 10, 0x2e));
    });
    const start = new SharedArrayBuffer(4);
    const run = (byte: number, offset: number) => {
      const worker = new Worker(new URL("./union-worker.ts", import.meta.url).href);
      return new Promise<UnionWorkerReply>((resolve, reject) => {
        worker.onmessage = (event: MessageEvent<UnionWorkerReply>) => resolve(event.data);
        worker.onerror = (event) => reject(new Error(event.message));
        const request: UnionWorkerRequest = { kind: "race", upper: setup.upper, lowers: setup.lowers, shared: setup.shared, paths, byte, offset, start };
        worker.postMessage(request);
      }).finally(() => worker.terminate());
    };
    const replies = [run(0x41, 0), run(0x42, 1)];
    await Bun.sleep(50);
    Atomics.store(new Int32Array(start), 0, 1);
    Atomics.notify(new Int32Array(start), 0);
    for (const reply of await Promise.all(replies)) if (!reply.ok) throw new Error(reply.error);
    for (const path of paths) expect(readFile(fs, path).slice(0, 3)).toBe("AB.");
    expect(upperNames()).toEqual([...paths].sort());
  });
});
