/** @module test/services/client-cache/backend/local — the local backend: the conformance suite, confinement to its root (also under a rename race), Worker use. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend, offsetToCookie } from "../../../../services/client-cache/backend/index.ts";
import { FsError } from "../../../../kernel/ipc/protocol/index.ts";
import { escapeAttempts, runEscapeAttempts } from "../../../conformance/escape-attempts.ts";
import { runConformance } from "../../../conformance/index.ts";
import {
  expectErrno, listNames, O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, readFile, writeFile,
} from "../../../conformance/harness.ts";
import type { LocalWorkerReply, LocalWorkerRequest } from "./local-worker.ts";

runConformance("local backend", {
  async newFs() {
    const base = mkdtempSync(join(tmpdir(), "danaus-local-"));
    const fs = new LocalBackend(join(base, "root"));
    return {
      fs,
      cleanup() {
        fs.dispose();
        rmSync(base, { recursive: true, force: true });
      },
    };
  },
  capabilities: { renameFlags: true, chown: true, hardLinks: true, largeFiles: true, symlinks: true, fifoIo: true },
});

/**
 * A temp dir `base` holding `outside/` (must never be touched) and the served root three levels down
 * (`base/jail/deep/root`), so that every path a mutation test tries would, if it escaped, still land inside `base`:
 * a regression in the confinement then fails the test instead of damaging the host. Paths reaching real host
 * files (/etc, /tmp) are only ever used for read-only probes.
 */
interface Jail {
  base: string;
  root: string;
  outside: string;
  fs: LocalBackend;
}

let jail: Jail;

beforeEach(() => {
  const base = mkdtempSync(join(tmpdir(), "danaus-jail-"));
  const root = join(base, "jail", "deep", "root");
  const outside = join(base, "outside");
  mkdirSync(join(outside, "dir"), { recursive: true });
  writeFileSync(join(outside, "sentinel"), "secret");
  writeFileSync(join(outside, "dir", "inner"), "inner secret");
  const fs = new LocalBackend(root);
  jail = { base, root, outside, fs };
  plantSymlinks();
});

afterEach(() => {
  jail.fs.dispose();
  rmSync(jail.base, { recursive: true, force: true });
});

/** A relative path that climbs to the host's "/" from the root and comes down to `hostPath`. */
function climbTo(hostPath: string): string {
  return "../".repeat(16) + hostPath.slice(1);
}

/** The escaping symlinks of the jail's root, by name; planted again where an attempt removed or moved one. */
function plantSymlinks(): void {
  const links: [string, string][] = [
    ["abs", "/etc"], // read-only probes only
    ["tmp", "/tmp"], // read-only probes only
    ["absout", jail.outside],
    ["abssentinel", join(jail.outside, "sentinel")],
    ["up", "../../.."],
    ["out", "../../../outside"],
    ["outfile", "../../../outside/sentinel"],
    ["climb", climbTo(jail.outside)],
    ["loop", "loop"],
  ];
  for (const [name, target] of links) {
    try {
      jail.fs.lstat(name);
    } catch {
      jail.fs.symlink(target, name);
    }
  }
}

/** Everything observable about `base` outside the served root: names, content, modes, owners, times, link counts. */
function snapshotOutside(): string {
  const lines: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (path === jail.root) continue;
      const st = lstatSync(path, { bigint: true });
      const content = st.isFile() ? readFileSync(path, "utf8") : "";
      lines.push(`${path} ${st.mode} ${st.uid}:${st.gid} ${st.nlink} ${st.size} ${st.mtimeNs} ${st.ctimeNs} ${content}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk(jail.base);
  return lines.join("\n");
}

/**
 * Asserts that a lookup through an escaping path found nothing: ENOENT, or ELOOP when the path, resolved inside the
 * root, runs through "/tmp" (the jail lives under /tmp, and the root's own "tmp" -> "/tmp" link then points at itself).
 */
function expectNotFound(call: () => unknown): void {
  try {
    call();
  } catch (error) {
    if (!(error instanceof FsError)) throw error;
    expect(["ENOENT", "ELOOP"]).toContain(error.code);
    return;
  }
  throw new Error("an escaping path resolved to something");
}

/** Paths that would reach the outside sentinel if anything escaped the root; if they did, they stay inside `base`. */
function escapingFiles(): string[] {
  const sentinel = join(jail.outside, "sentinel");
  return [
    "../../../outside/sentinel",
    "./../.././../outside//sentinel",
    sentinel,
    climbTo(sentinel),
    `/${climbTo(sentinel)}`,
    "absout/sentinel",
    "abssentinel",
    "up/outside/sentinel",
    "up/./outside/../outside/sentinel",
    "out/sentinel",
    "outfile",
    "out/dir/inner",
    "absout/dir/inner",
    "climb/sentinel",
    "climb/dir/inner",
  ];
}

/** Directories that would be the real outside/ if anything escaped the root. */
function escapingDirs(): string[] {
  return ["absout", "out", "up/outside", "../../../outside", jail.outside, climbTo(jail.outside), "climb", "absout/dir", "out/dir"];
}

/** Paths to real host files, for read-only probes. */
const HOST_FILES = ["abs/passwd", "../../etc/passwd", "/../../../../../etc/passwd", climbTo("/etc/passwd"), "tmp/x", "up/../../../../../../etc/passwd"];

describe("local backend confinement", () => {
  test("reads through escaping paths and symlinks find nothing outside the root", () => {
    const { fs } = jail;
    for (const path of [...escapingFiles(), ...HOST_FILES]) {
      expectNotFound(() => fs.stat(path));
      expectNotFound(() => fs.open(path, O_RDONLY, 0));
      expectNotFound(() => fs.access(path, 0));
      expectNotFound(() => fs.statfs(path));
      expectNotFound(() => fs.readlink(`${path}/`));
      // A bare name is the root's own escaping symlink, which lstat and readlink rightly show.
      if (path.includes("/")) {
        expectNotFound(() => fs.lstat(path));
        expectNotFound(() => fs.readlink(path));
      }
    }
    expectErrno("ENOENT", () => fs.stat("abs/passwd"));
    expectErrno("ENOENT", () => fs.lstat("../../etc/passwd"));
    expectErrno("ELOOP", () => fs.lstat("absout/sentinel"));
    expectErrno("ELOOP", () => fs.stat("tmp/x"));
    expectErrno("ELOOP", () => fs.stat("loop"));
    expectErrno("ELOOP", () => fs.open("loop/x", O_CREAT | O_WRONLY, 0o644));
  });

  test("escaping names resolve to the same names inside the root", () => {
    const { fs, outside } = jail;
    fs.mkdir("etc", 0o755);
    writeFile(fs, "etc/passwd", "inside passwd");
    fs.mkdir("outside", 0o755);
    writeFile(fs, "outside/sentinel", "inside sentinel");
    for (const path of ["../../etc/passwd", "abs/passwd", climbTo("/etc/passwd"), "/../../../etc/passwd", "up/etc/passwd"]) {
      expect(readFile(fs, path)).toBe("inside passwd");
    }
    for (const path of ["outfile", "out/sentinel", "up/outside/sentinel", "../../../outside/sentinel"]) {
      expect(readFile(fs, path)).toBe("inside sentinel");
    }
    // The absolute link names the host path of outside/, which inside the root is <root><outside>: absent.
    expectNotFound(() => fs.stat("abssentinel"));
    expectNotFound(() => fs.stat("climb/sentinel"));
    expect(readFileSync(join(outside, "sentinel"), "utf8")).toBe("secret");
    expect(fs.stat("up").st_ino).toBe(fs.stat("/").st_ino);
    expect(fs.stat("..").st_ino).toBe(fs.stat("/").st_ino);
    expect(fs.stat("../../../..").st_ino).toBe(fs.stat("").st_ino);
  });

  test("listing through escaping directories shows only the root's own entries", () => {
    const { fs } = jail;
    const list = (path: string): string[] => listNames(fs, path);
    const rootNames = list("/");
    expect(rootNames).toEqual(["abs", "absout", "abssentinel", "climb", "loop", "out", "outfile", "tmp", "up"]);
    for (const path of ["..", "../..", "up", "up/..", "/../../..", "up/up/up", "../".repeat(16)]) expect(list(path)).toEqual(rootNames);
    for (const path of [...escapingDirs(), "abs", "tmp"]) expectNotFound(() => fs.open(path, O_RDONLY | O_DIRECTORY, 0));
  });

  test("no mutation through escaping paths reaches outside the root", () => {
    const { fs } = jail;
    const before = snapshotOutside();
    const attempts = escapeAttempts(fs, { paths: escapingFiles(), dirs: escapingDirs(), renameFlags: true });
    const succeeded = runEscapeAttempts(fs, attempts, { replant: plantSymlinks });
    expect(snapshotOutside()).toBe(before);
    // What succeeded acted on the root's own names: the escaping symlinks themselves, or the root reached by "..".
    for (const what of succeeded) expect(what).toMatch(/(abssentinel|outfile|\.\.\/|up\/)/);
    expect(succeeded.length).toBeGreaterThan(0);
  });

  test("a hard link to an escaping symlink links the symlink, never the outside file", () => {
    const { fs, outside } = jail;
    const before = snapshotOutside();
    fs.link("abssentinel", "hl");
    fs.link("outfile", "hl2");
    fs.link("climb", "hl3");
    expect(fs.readlink("hl")).toBe(join(outside, "sentinel"));
    expectNotFound(() => fs.stat("hl"));
    expectNotFound(() => fs.stat("hl2"));
    expect(snapshotOutside()).toBe(before);
  });

  test("a path holding a NUL byte: EINVAL", () => {
    expectErrno("EINVAL", () => jail.fs.stat("f\0/../../outside/sentinel"));
    expectErrno("EINVAL", () => jail.fs.symlink("x\0y", "l"));
  });

  test("after dispose, a reused fd number never becomes the root: EBADF", () => {
    const fs = new LocalBackend(join(jail.base, "second"));
    fs.dispose();
    const other = openSync(jail.outside, "r");
    try {
      expectErrno("EBADF", () => fs.stat("sentinel"));
      expectErrno("EBADF", () => fs.open("sentinel", O_RDONLY, 0));
      expectErrno("EBADF", () => fs.unlink("sentinel"));
    } finally {
      closeSync(other);
    }
    expect(readFileSync(join(jail.outside, "sentinel"), "utf8")).toBe("secret");
  });

  test("the root fd itself is not a handle: close answers EBADF and the backend keeps working", () => {
    const { fs, root } = jail;
    const rootFds = readdirSync("/proc/self/fd")
      .map(Number)
      .filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === root;
        } catch {
          return false;
        }
      });
    expect(rootFds.length).toBeGreaterThan(0);
    for (const fd of rootFds) expectErrno("EBADF", () => fs.close(fd));
    writeFile(fs, "still-served", "yes");
    expect(readFile(fs, "still-served")).toBe("yes");
  });
});

describe("local backend under a concurrent rename race", () => {
  test("swapping a directory with symlinks to outside never exposes or changes the outside", async () => {
    const { fs, root, outside } = jail;
    writeFileSync(join(outside, "f"), "secret f");
    mkdirSync(join(outside, "f-dir"));
    const outsideIno = lstatSync(join(outside, "f")).ino;
    for (const dir of ["d1", "d2", "d3"]) {
      fs.mkdir(dir, 0o755);
      writeFile(fs, `${dir}/f`, "inside");
    }
    symlinkSync(outside, join(root, "s1"));
    symlinkSync("../../../outside", join(root, "s2"));
    symlinkSync(climbTo(outside), join(root, "s3"));
    const before = snapshotOutside();

    const control = new SharedArrayBuffer(8);
    const flags = new Int32Array(control);
    const worker = new Worker(new URL("./local-worker.ts", import.meta.url).href);
    const done = new Promise<LocalWorkerReply>((resolve) => {
      worker.onmessage = (event: MessageEvent<LocalWorkerReply>) => resolve(event.data);
    });
    const request: LocalWorkerRequest = { kind: "swap", root, pairs: [["d1", "s1"], ["d2", "s2"], ["d3", "s3"]], control };
    worker.postMessage(request);
    while (Atomics.load(flags, 1) < 100) await Bun.sleep(1);

    let reads = 0;
    let writes = 0;
    const unexpected = new Set<string>();
    const tolerate = (error: unknown): void => {
      if (!(error instanceof FsError)) throw error;
      if (!["ENOENT", "ELOOP", "EEXIST", "ENOTDIR", "EISDIR", "ENOTEMPTY"].includes(error.code)) unexpected.add(error.code);
    };
    for (let round = 0; round < 4000; round++) {
      const path = `d${(round % 3) + 1}`;
      try {
        const content = readFile(fs, `${path}/f`);
        expect(content).not.toContain("secret");
        reads++;
      } catch (error) {
        tolerate(error);
      }
      try {
        expect(fs.stat(`${path}/f`).st_ino).not.toBe(Number(outsideIno));
      } catch (error) {
        tolerate(error);
      }
      try {
        const fd = fs.open(`${path}/f`, O_RDWR | O_TRUNC | O_CREAT, 0o644);
        fs.write(fd, new TextEncoder().encode("inside"));
        fs.close(fd);
        writes++;
      } catch (error) {
        tolerate(error);
      }
      for (const attempt of [
        () => fs.unlink(`${path}/f`),
        () => fs.mkdir(`${path}/f-dir`, 0o755),
        () => fs.rmdir(`${path}/f-dir`),
        () => fs.chmod(`${path}/f`, 0o600),
        () => fs.truncate(`${path}/f`, 0),
        () => fs.rename(`${path}/f`, `${path}/g`, 0),
        () => fs.rename(`${path}/g`, `${path}/f`, 0),
      ]) {
        try {
          attempt();
        } catch (error) {
          tolerate(error);
        }
      }
    }
    Atomics.store(flags, 0, 1);
    const reply = await done;
    worker.terminate();

    expect(reply).toMatchObject({ ok: true });
    expect(unexpected).toEqual(new Set());
    expect(reads).toBeGreaterThan(0);
    expect(writes).toBeGreaterThan(0);
    expect(reply.ok ? reply.swaps : 0).toBeGreaterThan(100);
    expect(snapshotOutside()).toBe(before);
  });
});

describe("local backend in a Worker", () => {
  test("a Worker's own LocalBackend over the same root writes what the main thread reads, handles shared", async () => {
    const { fs, root } = jail;
    const worker = new Worker(new URL("./local-worker.ts", import.meta.url).href);
    const reply = await new Promise<LocalWorkerReply>((resolve) => {
      worker.onmessage = (event: MessageEvent<LocalWorkerReply>) => resolve(event.data);
      const request: LocalWorkerRequest = { kind: "write", root, path: "dir/../from-worker", content: "hello from a worker" };
      fs.mkdir("dir", 0o755);
      worker.postMessage(request);
    });
    worker.terminate();
    expect(reply).toMatchObject({ ok: true });
    expect(readFile(fs, "from-worker")).toBe("hello from a worker");
    const handle = (reply as { handle: number }).handle;
    const into = new Uint8Array(5);
    expect(fs.pread(handle, into, 0)).toBe(5);
    expect(new TextDecoder().decode(into)).toBe("hello");
    fs.close(handle);
  });
});

describe("readdir cookies", () => {
  test("offsets beyond 2^53 round down, never up", () => {
    expect(offsetToCookie(5)).toBe(5);
    expect(offsetToCookie(2n ** 53n)).toBe(2 ** 53);
    for (const offset of [2n ** 53n + 1n, 2n ** 62n + 513n, 2n ** 63n - 1n, 0x7123456789abcdefn]) {
      const cookie = offsetToCookie(offset);
      expect(BigInt(cookie) <= offset).toBe(true);
      expect(offset - BigInt(cookie) < 2048n).toBe(true);
    }
  });

  test("a listing resumed from every entry's cookie on the host filesystem matches the full listing", () => {
    const { fs } = jail;
    fs.mkdir("many", 0o755);
    for (let i = 0; i < 200; i++) writeFile(fs, `many/n${i}`, "");
    const fd = fs.open("many", O_RDONLY | O_DIRECTORY, 0);
    const all = fs.readdir(fd, 0);
    expect(all.length).toBe(200);
    for (let i = 0; i < all.length; i++) {
      const rest = fs.readdir(fd, all[i]!.next);
      expect(rest.map((e) => e.name)).toEqual(all.slice(i + 1).map((e) => e.name));
    }
    fs.close(fd);
  });
});

