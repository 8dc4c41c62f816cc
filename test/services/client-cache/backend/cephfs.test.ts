/**
 * @module test/services/client-cache/backend/cephfs — the cephfs backend: its pieces without a cluster (handle table,
 * cookies, split transfers, struct sizes), and on the test cluster (DANAUS_CEPH_CONF) the conformance suite, mount
 * options and errors, confinement to the sub-root, Inode references, Workers sharing handles, big offsets, split
 * transfers and what survives a SIGKILL of the writer.
 */
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { dlopen, FFIType } from "bun:ffi";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CEPH_STATX, CephBackend, cephCookieToOffset, CephLibraryMissingError, CephMount, CephMountError, cephOffsetToCookie, cephVersion, DIRENT64,
  ensureCephDirectory, MAX_IO_BYTES, QUIET_CLIENT_LOG, STATVFS, transferInPieces,
} from "../../../../services/client-cache/backend/cephfs/index.ts";
import { HandleKind, HandleTable } from "../../../../services/client-cache/backend/cephfs/handle-table.ts";
import { address } from "../../../../services/client-cache/backend/cephfs/libcephfs.ts";
import { FsError } from "../../../../kernel/ipc/protocol/index.ts";
import { testCephConf } from "../../../ceph.ts";
import { escapeAttempts, runEscapeAttempts } from "../../../conformance/escape-attempts.ts";
import { runConformance } from "../../../conformance/index.ts";
import {
  bytes, expectErrno, O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_RDONLY, O_RDWR, O_WRONLY,
  readAll, readBytes, readFile, SEEK_SET, text, writeFile,
} from "../../../conformance/harness.ts";
import { patternByte } from "./cephfs-crash-writer.ts";
import { listDirectory, removeTree, snapshotTree } from "./cephfs-tree.ts";
import type { CephWorkerReply, CephWorkerRequest } from "./cephfs-worker.ts";

const GiB = 1024 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// Without a cluster

describe("cephfs handle table", () => {
  test("hands out the lowest free slot, shares it through the buffer, and refuses closed or unknown handles", () => {
    const buffer = HandleTable.allocateBuffer(3);
    const table = new HandleTable(buffer);
    const other = new HandleTable(buffer);
    const a = table.reserve("open");
    table.publish(a, HandleKind.FILE, O_RDWR, address(0x1000), address(0x2000));
    const b = table.reserve("open");
    table.publish(b, HandleKind.DIRECTORY, O_RDONLY, address(0x3000), address(0x4000));
    expect([a, b]).toEqual([0, 1]);
    other.acquire(b, "read");
    expect([other.kind(b), other.flags(b), other.object(b), other.inode(b)]).toEqual([HandleKind.DIRECTORY, O_RDONLY, 0x3000, 0x4000]);
    other.release(b);
    table.beginClose(a, "close");
    expect(() => other.acquire(a, "read")).toThrow(FsError);
    table.finishClose(a);
    expect(other.openHandles()).toEqual([b]);
    expect(table.reserve("open")).toBe(0);
    expect(table.reserve("open")).toBe(2);
    expect(() => table.reserve("open")).toThrow("EMFILE");
    for (const bad of [-1, 3, 1.5, Number.NaN]) expect(() => table.acquire(bad, "read")).toThrow("EBADF");
    expect(() => table.beginClose(0, "close")).toThrow("EBADF");
  });

  test("the mount gate counts calls and refuses new ones once shut", () => {
    const table = new HandleTable(HandleTable.allocateBuffer(2));
    table.enter("stat");
    table.leave();
    expect(table.closed).toBe(false);
    table.shut();
    expect(table.closed).toBe(true);
    expect(() => table.enter("stat")).toThrow("ENOTCONN");
    expect(() => new HandleTable(new SharedArrayBuffer(64))).toThrow("bad magic");
  });

  test("the cursor lock serialises threads' critical sections", () => {
    const table = new HandleTable(HandleTable.allocateBuffer(1));
    const order: string[] = [];
    table.withCursor(0, () => order.push("one"));
    expect(() => table.withCursor(0, () => {
      throw new Error("inside");
    })).toThrow("inside");
    table.withCursor(0, () => order.push("two"));
    expect(order).toEqual(["one", "two"]);
  });
});

describe("cephfs readdir cookies", () => {
  test("hash-order, frag-order and small offsets map to distinct safe integers and back", () => {
    const offsets = [0n, 1n, 2n, 0x0ff2935aa0000003n, 0x0ffbfa6dc0000003n, (0xffn << 52n) | 2n, (0x123456n << 28n) | 7n, 2n ** 52n - 1n];
    const cookies = offsets.map(cephOffsetToCookie);
    expect(new Set(cookies).size).toBe(offsets.length);
    for (const [i, cookie] of cookies.entries()) {
      expect(Number.isSafeInteger(cookie)).toBe(true);
      expect(cephCookieToOffset(cookie)).toBe(offsets[i]!);
    }
    expect(() => cephOffsetToCookie(0x1ffbfa6dc0000003n)).toThrow("EOVERFLOW");
    expect(() => cephOffsetToCookie(0x07f0000000000000n)).toThrow("EOVERFLOW");
    for (const bad of [-1, 0.5, 2 ** 53]) expect(() => cephCookieToOffset(bad)).toThrow("EINVAL");
  });
});

describe("cephfs split transfers", () => {
  test("pieces never exceed the limit and cover the transfer in order", () => {
    const calls: [number, number][] = [];
    expect(transferInPieces(10_000, 4096, "read", (done, size) => (calls.push([done, size]), size))).toBe(10_000);
    expect(calls).toEqual([[0, 4096], [4096, 4096], [8192, 1808]]);
    expect(MAX_IO_BYTES).toBe(GiB);
    expect(transferInPieces(3 * GiB, MAX_IO_BYTES, "write", (_done, size) => size)).toBe(3 * GiB);
  });

  test("a short piece ends the transfer; an error after progress reports the progress, a first error throws", () => {
    expect(transferInPieces(10_000, 4096, "read", (done, size) => (done === 4096 ? 100 : size))).toBe(4196);
    expect(transferInPieces(10_000, 4096, "read", (done, size) => (done === 0 ? size : -5))).toBe(4096);
    expectErrno("EIO", () => transferInPieces(10_000, 4096, "read", () => -5));
    expect(transferInPieces(0, 4096, "read", () => -5)).toBe(0);
    expect(() => transferInPieces(1, 0, "read", () => 1)).toThrow(RangeError);
  });
});

describe("cephfs C structs", () => {
  test("have the sizes of the x86-64 headers", () => {
    expect(CEPH_STATX.size).toBe(136);
    expect([CEPH_STATX.offsets.stx_mode, CEPH_STATX.offsets.stx_ino, CEPH_STATX.offsets.stx_size]).toEqual([20, 24, 32]);
    expect(CEPH_STATX.offsets.stx_version).toBe(128);
    expect(DIRENT64.size).toBe(280);
    expect(STATVFS.size).toBe(112);
  });

  test("a missing library is reported with the package to install", () => {
    const error = new CephLibraryMissingError("libcephfs.so.2", new Error("cannot open shared object file"));
    expect(error.message).toContain("libcephfs2");
    expect(error.message).toContain("cannot open shared object file");
  });
});

/** The installed libcephfs.so.2 file, when this machine has one and may hide it in a private mount namespace. */
function hideableLibrary(): string | null {
  if (process.getuid?.() !== 0 || Bun.which("unshare") === null) return null;
  for (const dir of ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"]) {
    if (existsSync(`${dir}/libcephfs.so.2`)) return realpathSync(`${dir}/libcephfs.so.2`);
  }
  return null;
}

const library = hideableLibrary();
describe.skipIf(library === null)("cephfs without libcephfs", () => {
  test("importing the backend works; the first use throws CephLibraryMissingError naming libcephfs2", () => {
    // A private mount namespace where the library file reads as /dev/null: dlopen fails, nothing else changes.
    const child = new URL("./cephfs-no-library.ts", import.meta.url).pathname;
    const run = Bun.spawnSync(["unshare", "--mount", "--propagation", "private", "sh", "-c", 'mount --bind /dev/null "$1" && exec "$2" "$3"', "sh", library!, process.execPath, child], {
      stdout: "pipe",
      stderr: "pipe",
      timeout: 60_000,
    });
    expect(run.stderr.toString()).toBe("");
    const report = JSON.parse(run.stdout.toString()) as { imported: boolean; name?: string; message?: string };
    expect(report.imported).toBe(true);
    expect(report.name).toBe("CephLibraryMissingError");
    expect(report.message).toContain("install the package libcephfs2");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// On the test cluster

const conf = testCephConf("test/services/client-cache/backend/cephfs.test.ts");

/** The per-run directory under the filesystem's root holding everything this file creates. */
const BASE = `danaus-test-${process.pid}-${randomBytes(4).toString("hex")}`;

let mount: CephMount | null = null;
let admin: CephBackend | null = null;
let counter = 0;

/** The process's mount of the filesystem root, made on first use, and a backend on the per-run base directory. */
function cluster(): { mount: CephMount; admin: CephBackend } {
  if (mount === null || admin === null) {
    ensureCephDirectory({ conf: conf!, clientId: "admin" }, BASE);
    mount = CephMount.open({ conf: conf!, clientId: "admin", options: { client_oc: "false" }, renamer: true });
    admin = new CephBackend(mount.shared, BASE);
  }
  return { mount, admin };
}

/** A fresh empty directory under the base, served by its own backend. */
function freshBackend(prefix: string, options: ConstructorParameters<typeof CephBackend>[2] = {}) {
  const { mount, admin } = cluster();
  const name = `${prefix}-${++counter}`;
  admin.mkdir(name, 0o755);
  const fs = new CephBackend(mount.shared, `${BASE}/${name}`, options);
  return {
    fs,
    name,
    path: `${BASE}/${name}`,
    cleanup() {
      fs.dispose();
      removeTree(admin, name);
    },
  };
}

afterAll(() => {
  if (mount === null || admin === null) return;
  admin.dispose();
  const root = new CephBackend(mount.shared, "");
  removeTree(root, BASE);
  root.dispose();
  mount.close();
});

if (conf !== null) {
  runConformance("cephfs backend", {
    async newFs() {
      return freshBackend("conformance");
    },
    capabilities: { renameFlags: false, chown: true, hardLinks: true, largeFiles: true, symlinks: true },
  });
}

/** Runs one request in a fresh Worker and returns its reply. */
async function inWorker(request: CephWorkerRequest): Promise<CephWorkerReply> {
  const worker = new Worker(new URL("./cephfs-worker.ts", import.meta.url).href);
  try {
    return await new Promise<CephWorkerReply>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<CephWorkerReply>) => resolve(event.data);
      worker.onerror = (event) => reject(new Error(event.message));
      worker.postMessage(request);
    });
  } finally {
    worker.terminate();
  }
}

describe.skipIf(conf === null)("cephfs mount", () => {
  test("options are applied; ensureCephDirectory makes a nested root that a second mount serves", () => {
    const { mount, admin } = cluster();
    expect(mount.option("client_oc")).toBe("false");
    // No in-memory debug log unless the tenant's options ask for one (below: debug_client).
    expect(Object.keys(QUIET_CLIENT_LOG).map((name) => mount.option(name))).toEqual(Object.keys(QUIET_CLIENT_LOG).map(() => "0/0"));
    expect(mount.mountMs).toBeGreaterThan(0);
    expect(cephVersion()).toMatch(/^\d+\.\d+\.\d+/);
    ensureCephDirectory({ conf: conf!, clientId: "admin" }, `/${BASE}/tenant/deeper/`);
    ensureCephDirectory({ conf: conf!, clientId: "admin" }, `${BASE}/tenant/deeper`);
    expect(admin.stat("tenant/deeper").st_mode & 0o7777).toBe(0o700);
    const tenant = CephMount.open({ conf: conf!, clientId: "admin", fsName: "cephfs", root: `/${BASE}/tenant/deeper`, options: { client_oc: "true", debug_client: "0/5" } });
    try {
      expect(tenant.option("client_oc")).toBe("true");
      expect([tenant.option("debug_client"), tenant.option("debug_ms")]).toEqual(["0/5", "0/0"]);
      const fs = new CephBackend(tenant.shared, "");
      writeFile(fs, "hello", "from the tenant mount");
      fs.dispose();
    } finally {
      tenant.close();
    }
    expect(readFile(admin, "tenant/deeper/hello")).toBe("from the tenant mount");
    writeFile(admin, "tenant/file", "");
    expectErrno("ENOTDIR", () => ensureCephDirectory({ conf: conf!, clientId: "admin" }, `${BASE}/tenant/file/x`));
    expectErrno("EINVAL", () => ensureCephDirectory({ conf: conf!, clientId: "admin" }, `${BASE}/../x`));
    removeTree(admin, "tenant");
  });

  test("a missing root, an unknown filesystem or option: CephMountError with the errno", () => {
    const attempts: [Parameters<typeof CephMount.open>[0], string, string][] = [
      [{ conf: conf!, clientId: "admin", root: `/${BASE}/no/such/dir` }, "ceph_mount", "ENOENT"],
      [{ conf: conf!, clientId: "admin", fsName: "no-such-fs" }, "ceph_mount", "ENOENT"],
      [{ conf: conf!, clientId: "admin", options: { no_such_option: "1" } }, "ceph_conf_set", "ENOENT"],
      [{ conf: "/nonexistent/ceph.conf", clientId: "admin" }, "ceph_conf_read_file", "ENOENT"],
    ];
    for (const [options, call, code] of attempts) {
      let thrown: unknown;
      try {
        CephMount.open(options).close();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(CephMountError);
      expect([(thrown as CephMountError).call, (thrown as CephMountError).code]).toEqual([call, code]);
    }
  });

  test("a backend on a missing or non-directory sub-root: ENOENT / ENOTDIR", () => {
    const { mount, admin } = cluster();
    writeFile(admin, "plain", "");
    expectErrno("ENOENT", () => new CephBackend(mount.shared, `${BASE}/missing`));
    expectErrno("ENOTDIR", () => new CephBackend(mount.shared, `${BASE}/plain`));
    admin.unlink("plain");
  });

  test("closing the mount closes its open handles; calls afterwards fail with ENOTCONN", () => {
    const own = CephMount.open({ conf: conf!, clientId: "admin", root: `/${BASE}`, maxHandles: 4 });
    const fs = new CephBackend(own.shared, "");
    fs.mkdir("closing", 0o755);
    const handles = [0, 1, 2, 3].map((i) => fs.open(`closing/f${i}`, O_CREAT | O_WRONLY, 0o644));
    expect(handles).toEqual([0, 1, 2, 3]);
    expectErrno("EMFILE", () => fs.open("closing/f4", O_CREAT | O_WRONLY, 0o644));
    fs.write(handles[0]!, bytes("flushed at unmount"));
    own.close();
    own.close();
    expectErrno("ENOTCONN", () => fs.stat("closing"));
    expectErrno("ENOTCONN", () => fs.write(handles[1]!, bytes("x")));
    expect(() => new CephBackend(own.shared, "")).toThrow("ENOTCONN");
    fs.dispose();
    const { admin } = cluster();
    expect(readFile(admin, "closing/f0")).toBe("flushed at unmount");
    removeTree(admin, "closing");
  });
});

/**
 * A jail under the base: `outside/` (never to be touched) and `jail/deep/root` served by `fs`, with a sibling
 * sub-root `jail/deep/sibling` holding a secret, and symlinks in the root that would escape if anything escaped.
 */
interface Jail {
  /** The jail's directory below the base. */
  dir: string;
  /** Its path from the filesystem root. */
  absolute: string;
  fs: CephBackend;
}

let jail: Jail;

/** A relative path climbing from the root past the filesystem root and down to `absolutePath`. */
function climbTo(absolutePath: string): string {
  return "../".repeat(16) + absolutePath.slice(1);
}

function plantSymlinks(): void {
  const outside = `${jail.absolute}/outside`;
  const links: [string, string][] = [
    ["absout", outside],
    ["abssentinel", `${outside}/sentinel`],
    ["up", "../../.."],
    ["out", "../../../outside"],
    ["outfile", "../../../outside/sentinel"],
    ["climb", climbTo(outside)],
    ["loop", "loop"],
    ["sib", "../sibling"],
    ["sibabs", `${jail.absolute}/jail/deep/sibling`],
  ];
  for (const [name, target] of links) {
    try {
      jail.fs.lstat(name);
    } catch {
      jail.fs.symlink(target, name);
    }
  }
}

/** Everything observable in the jail outside the served root. */
function snapshotOutside(): string {
  return snapshotTree(cluster().admin, jail.dir, `${jail.dir}/jail/deep/root`);
}

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

function escapingFiles(): string[] {
  const sentinel = `${jail.absolute}/outside/sentinel`;
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
    "../sibling/secret",
    "sib/secret",
    "sibabs/secret",
  ];
}

function escapingDirs(): string[] {
  return ["absout", "out", "up/outside", "../../../outside", `${jail.absolute}/outside`, climbTo(`${jail.absolute}/outside`), "climb", "absout/dir", "out/dir", "sib", "sibabs"];
}

describe.skipIf(conf === null)("cephfs confinement", () => {
  beforeEach(() => {
    const { mount, admin } = cluster();
    const dir = `jail-${++counter}`;
    admin.mkdir(dir, 0o755);
    admin.mkdir(`${dir}/outside`, 0o755);
    admin.mkdir(`${dir}/outside/dir`, 0o755);
    writeFile(admin, `${dir}/outside/sentinel`, "secret");
    writeFile(admin, `${dir}/outside/dir/inner`, "inner secret");
    for (const part of ["jail", "jail/deep", "jail/deep/root", "jail/deep/sibling"]) admin.mkdir(`${dir}/${part}`, 0o755);
    writeFile(admin, `${dir}/jail/deep/sibling/secret`, "sibling secret");
    jail = { dir, absolute: `/${BASE}/${dir}`, fs: new CephBackend(mount.shared, `${BASE}/${dir}/jail/deep/root`) };
    plantSymlinks();
  });

  afterEach(() => {
    jail.fs.dispose();
    removeTree(cluster().admin, jail.dir);
  });

  test("reads through escaping paths and symlinks find nothing outside the root", () => {
    const { fs } = jail;
    for (const path of escapingFiles()) {
      expectNotFound(() => fs.stat(path));
      expectNotFound(() => fs.open(path, O_RDONLY, 0));
      expectNotFound(() => fs.access(path, 0));
      expectNotFound(() => fs.statfs(path));
      expectNotFound(() => fs.readlink(`${path}/`));
      if (path.includes("/")) {
        expectNotFound(() => fs.lstat(path));
        expectNotFound(() => fs.readlink(path));
      }
    }
    expectErrno("ENOENT", () => fs.lstat("../../../outside/sentinel"));
    expectErrno("ELOOP", () => fs.stat("loop"));
    expectErrno("ELOOP", () => fs.open("loop/x", O_CREAT | O_WRONLY, 0o644));
  });

  test("escaping names resolve to the same names inside the root; \"..\" at the root stays there", () => {
    const { fs } = jail;
    fs.mkdir("outside", 0o755);
    writeFile(fs, "outside/sentinel", "inside sentinel");
    for (const path of ["outfile", "out/sentinel", "up/outside/sentinel", "../../../outside/sentinel", "/../outside/sentinel"]) {
      expect(readFile(fs, path)).toBe("inside sentinel");
    }
    expectNotFound(() => fs.stat("abssentinel"));
    expectNotFound(() => fs.stat("climb/sentinel"));
    expect(readFile(cluster().admin, `${jail.dir}/outside/sentinel`)).toBe("secret");
    const root = fs.stat("/").st_ino;
    for (const path of ["up", "..", "../../../..", "up/up/..", "out/../.."]) expect(fs.stat(path).st_ino).toBe(root);
    expect(fs.stat("").st_ino).toBe(cluster().admin.stat(`${jail.dir}/jail/deep/root`).st_ino);
  });

  test("listing through escaping directories shows only the root's own entries", () => {
    const { fs } = jail;
    const names = (path: string) => listDirectory(fs, path).map((entry) => entry.name).sort();
    const rootNames = names("/");
    expect(rootNames).toEqual(["absout", "abssentinel", "climb", "loop", "out", "outfile", "sib", "sibabs", "up"]);
    for (const path of ["..", "../..", "up", "up/..", "/../../..", "up/up/up", "../".repeat(16)]) expect(names(path)).toEqual(rootNames);
    for (const path of escapingDirs()) expectNotFound(() => fs.open(path, O_RDONLY | O_DIRECTORY, 0));
  });

  test("no mutation through escaping paths reaches outside the root or the sibling", () => {
    const { fs } = jail;
    const before = snapshotOutside();
    const attempts = escapeAttempts(fs, { paths: escapingFiles(), dirs: escapingDirs() });
    const succeeded = runEscapeAttempts(fs, attempts, { replant: plantSymlinks });
    expect(snapshotOutside()).toBe(before);
    for (const what of succeeded) expect(what).toMatch(/(abssentinel|outfile|\.\.\/|up\/)/);
    expect(succeeded.length).toBeGreaterThan(0);
  });

  test("symlink chains: 40 links are followed, 41 fail with ELOOP; a two-link cycle: ELOOP", () => {
    const { fs } = jail;
    writeFile(fs, "target", "end of the chain");
    fs.symlink("target", "c0");
    for (let i = 1; i <= 40; i++) fs.symlink(`c${i - 1}`, `c${i}`);
    expect(readFile(fs, "c39")).toBe("end of the chain");
    expectErrno("ELOOP", () => fs.stat("c40"));
    expect(fs.readlink("c40")).toBe("c39");
    fs.symlink("b", "a");
    fs.symlink("/a", "b");
    expectErrno("ELOOP", () => fs.stat("a/x"));
  });

  test("a sibling sub-root is invisible, and served by its own backend", () => {
    const { fs } = jail;
    const { mount } = cluster();
    for (const path of ["../sibling", "sib", "sibabs", "sib/secret", `${jail.absolute}/jail/deep/sibling/secret`]) expectNotFound(() => fs.stat(path));
    const sibling = new CephBackend(mount.shared, `${BASE}/${jail.dir}/jail/deep/sibling`);
    try {
      expect(readFile(sibling, "secret")).toBe("sibling secret");
      expectNotFound(() => sibling.stat("../root/sib"));
    } finally {
      sibling.dispose();
    }
  });

  test("a path holding a NUL byte: EINVAL", () => {
    expectErrno("EINVAL", () => jail.fs.stat("f\0/../../outside/sentinel"));
    expectErrno("EINVAL", () => jail.fs.symlink("x\0y", "l"));
  });
});

/** The `ll_ref` of every inode in a client's cache, by inode number (`ceph daemon <asok> dump_cache`). */
function llRefs(socket: string): Map<string, number> {
  const run = Bun.spawnSync(["ceph", "--admin-daemon", socket, "dump_cache"], { stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`dump_cache failed: ${run.stderr.toString()}`);
  const cache = (JSON.parse(run.stdout.toString()) as { cache: { path?: string; ino: string; ll_ref?: number }[] }).cache;
  const refs = new Map<string, number>();
  for (const entry of cache) if (entry.path !== undefined) refs.set(entry.ino, entry.ll_ref ?? 0);
  return refs;
}

describe.skipIf(conf === null || Bun.which("ceph") === null)("cephfs Inode references", () => {
  test("every reference a walk or an open takes is put again, also on errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "danaus-ceph-asok-"));
    const socket = join(dir, "client.asok");
    const own = CephMount.open({ conf: conf!, clientId: "admin", root: `/${BASE}`, options: { admin_socket: socket } });
    try {
      const before = llRefs(socket);
      const fs = new CephBackend(own.shared, "");
      fs.mkdir("refs", 0o755);
      const sub = new CephBackend(own.shared, "refs");
      sub.mkdir("d", 0o755);
      writeFile(sub, "d/f", "x");
      sub.symlink("d", "ld");
      sub.symlink("/d/f", "abs");
      sub.symlink("loop", "loop");
      sub.link("d/f", "hard");
      const fd = sub.open("ld/f", O_RDWR, 0);
      const dfd = sub.open("..", O_RDONLY | O_DIRECTORY, 0);
      sub.readdir(dfd, 0);
      sub.fstat(fd);
      sub.rename("hard", "d/hard2", 0);
      for (const call of [
        () => sub.stat("ld/missing"), () => sub.stat("loop"), () => sub.open("d/f/x", O_RDONLY, 0), () => sub.mkdir("d", 0o755),
        () => sub.open("abs", O_CREAT | O_EXCL, 0o644), () => sub.rmdir("d"), () => sub.rename("d", "d/x", 0), () => sub.link("d", "d2"),
        () => sub.readlink("d/f"), () => sub.open("d", O_WRONLY, 0), () => sub.unlink("d/f/"),
      ]) {
        expect(call).toThrow(FsError);
      }
      for (const path of ["abs", "ld/f", "../d/./f", "/ld/../d", "", "d/hard2"]) sub.stat(path);
      sub.close(fd);
      sub.close(dfd);
      sub.dispose();
      removeTree(fs, "refs");
      fs.dispose();
      const after = llRefs(socket);
      for (const [ino, refs] of after) expect([ino, refs]).toEqual([ino, before.get(ino) ?? 0]);
    } finally {
      own.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Waits until every metadata request of the mount's first client is safe (ceph_sync_fs): libcephfs ends a rename
 * (Client::put_request) only when the MDS's safe reply has come, and what it does to its cache then is what the
 * tests below check.
 */
function syncFs(mount: CephMount): void {
  const symbols = dlopen("libcephfs.so.2", { ceph_sync_fs: { args: [FFIType.ptr], returns: FFIType.i32 } }).symbols;
  expect(symbols.ceph_sync_fs(mount.shared.mount)).toBe(0);
}

/** The steps of a rename over one name of a file with other names: d1/c (its first name), b and d0/e, o renamed over b. */
function replaceLinkedName(fs: CephBackend, mount: CephMount): void {
  for (const dir of ["d0", "d1"]) fs.mkdir(dir, 0o755);
  writeFile(fs, "d1/c", "abc");
  fs.link("d1/c", "b");
  fs.link("d1/c", "d0/e");
  for (const name of ["d1/c", "b", "d0/e"]) expect(fs.lstat(name).st_nlink).toBe(3);
  writeFile(fs, "o", "other");
  fs.rename("o", "b", 0);
  syncFs(mount);
}

describe.skipIf(conf === null)("cephfs rename over a file with other names", () => {
  test("the file's other names still resolve, with the new link count, once the rename is safe", () => {
    const { fs, cleanup } = freshBackend("replace-linked");
    try {
      replaceLinkedName(fs, cluster().mount);
      for (const name of ["d1/c", "d0/e"]) expect([name, fs.lstat(name).st_nlink, readFile(fs, name)]).toEqual([name, 2, "abc"]);
      expect([fs.lstat("b").st_nlink, readFile(fs, "b")]).toEqual([1, "other"]);
      expectErrno("ENOENT", () => fs.lstat("o"));
      expect(listDirectory(fs, "").map((entry) => entry.name).sort()).toEqual(["b", "d0", "d1"]);
      // The renamer's walk keeps the errors of a rename: a directory over a linked file, a missing source.
      fs.link("d1/c", "f");
      expectErrno("ENOTDIR", () => fs.rename("d0", "f", 0));
      expectErrno("ENOENT", () => fs.rename("missing", "f", 0));
      expect(fs.lstat("f").st_nlink).toBe(3);
    } finally {
      cleanup();
    }
  });

  test("without the renamer, libcephfs 16.2's own rename leaves the other names answering ENOENT (why the renamer exists)", () => {
    const { admin } = cluster();
    admin.mkdir("without-renamer", 0o755);
    const own = CephMount.open({ conf: conf!, clientId: "admin", root: `/${BASE}/without-renamer`, options: { client_oc: "false" }, renamer: false });
    try {
      expect(own.shared.renamer).toBeNull();
      const fs = new CephBackend(own.shared, "");
      replaceLinkedName(fs, own);
      // When this fails, libcephfs keeps a replaced inode's other names and the renamer is no longer needed.
      for (const name of ["d1/c", "d0/e"]) expectErrno("ENOENT", () => fs.lstat(name));
      expect(admin.lstat("without-renamer/d1/c").st_nlink).toBe(2);
      fs.dispose();
    } finally {
      own.close();
      removeTree(admin, "without-renamer");
    }
  });
});

/** MDS requests a client has made so far: the count of its `client.reply` counter (`ceph daemon <asok> perf dump`). */
function mdsRequests(socket: string): number {
  const run = Bun.spawnSync(["ceph", "--admin-daemon", socket, "perf", "dump"], { stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`perf dump failed: ${run.stderr.toString()}`);
  return (JSON.parse(run.stdout.toString()) as { client: { reply: { avgcount: number } } }).client.reply.avgcount;
}

describe.skipIf(conf === null || Bun.which("ceph") === null)("cephfs MDS requests", () => {
  test("an O_CREAT open of a new name in a directory another client filled costs the create and at most one lookup", () => {
    const files = 20;
    const dir = mkdtempSync(join(tmpdir(), "danaus-ceph-asok-"));
    const socket = join(dir, "client.asok");
    const { admin } = cluster();
    const name = `creates-${++counter}`;
    // Made and filled by another client: this one has never listed it, so no absence in it is known without the MDS.
    admin.mkdir(name, 0o755);
    writeFile(admin, `${name}/other`, "x");
    const own = CephMount.open({ conf: conf!, clientId: "admin", root: `/${BASE}`, options: { client_oc: "false", admin_socket: socket } });
    try {
      const fs = new CephBackend(own.shared, name);
      fs.stat("");
      const before = mdsRequests(socket);
      for (let i = 0; i < files; i++) fs.close(fs.open(`f${i}`, O_CREAT | O_RDWR, 0o600));
      const perCreate = (mdsRequests(socket) - before) / files;
      // ceph_ll_create looks the name up itself; a lookup of the backend's own before it would make this 3.
      expect(perCreate).toBeLessThanOrEqual(2);
      // An existing name is opened, not created again or truncated; with O_EXCL it is EEXIST.
      const fd = fs.open("other", O_CREAT | O_RDWR, 0o600);
      expect(readAll(fs, fd, 0)).toEqual(bytes("x"));
      fs.close(fd);
      expectErrno("EEXIST", () => fs.open("f0", O_CREAT | O_EXCL | O_RDWR, 0o600));
      fs.dispose();
    } finally {
      own.close();
      removeTree(admin, name);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(conf === null)("cephfs backend in Workers", () => {
  test("a handle opened in one thread is read, written and closed from others", async () => {
    const { mount } = cluster();
    const { fs, path, cleanup } = freshBackend("workers");
    try {
      const created = await inWorker({ kind: "create", shared: mount.shared, subRoot: path, path: "shared", content: "made by worker A" });
      expect(created).toMatchObject({ ok: true });
      const handle = (created as { handle: number }).handle;
      const into = new Uint8Array(6);
      expect(fs.pread(handle, into, 8)).toBe(6);
      expect(text(into)).toBe("worker");
      fs.pwrite(handle, bytes("main"), 0);
      const read = await inWorker({ kind: "read", shared: mount.shared, subRoot: path, handle, length: 100, close: true });
      expect(read).toEqual({ ok: true, text: "main by worker A" });
      expectErrno("EBADF", () => fs.fstat(handle));
      const again = await inWorker({ kind: "read", shared: mount.shared, subRoot: path, handle, length: 1, close: false });
      expect(again).toMatchObject({ ok: false, code: "EBADF" });
      // Like an fd, the number is handed out again by the next open.
      const reused = fs.open("mine", O_CREAT | O_RDWR, 0o644);
      expect(reused).toBe(handle);
      fs.close(reused);
    } finally {
      cleanup();
    }
  });

  test("two Workers open, write, read and close concurrently: distinct handles, exact contents, none left open", async () => {
    const { mount } = cluster();
    const { fs, path, cleanup } = freshBackend("churn");
    try {
      const table = new HandleTable(mount.shared.table);
      const openBefore = table.openHandles().length;
      const control = new SharedArrayBuffer(8);
      const target = fs.open("target", O_CREAT | O_RDWR, 0o644);
      const size = 256 * 1024;
      const [a, b, c, d] = await Promise.all([
        inWorker({ kind: "churn", shared: mount.shared, subRoot: path, prefix: "a", rounds: 150, control, slot: 0 }),
        inWorker({ kind: "churn", shared: mount.shared, subRoot: path, prefix: "b", rounds: 150, control, slot: 1 }),
        inWorker({ kind: "fill", shared: mount.shared, subRoot: path, handle: target, offset: 0, count: size, byte: 0x61 }),
        inWorker({ kind: "fill", shared: mount.shared, subRoot: path, handle: target, offset: size, count: size, byte: 0x62 }),
      ]);
      for (const reply of [a, b, c, d]) expect(reply).toMatchObject({ ok: true });
      expect(Array.from(new Int32Array(control))).toEqual([150, 150]);
      const data = readAll(fs, target, 0);
      expect(data.length).toBe(2 * size);
      expect(data.subarray(0, size).every((x) => x === 0x61)).toBe(true);
      expect(data.subarray(size).every((x) => x === 0x62)).toBe(true);
      fs.close(target);
      expect(table.openHandles().length).toBe(openBefore);
      expect(listDirectory(fs, "").length).toBe(301);
    } finally {
      cleanup();
    }
  }, 60_000);
});

describe.skipIf(conf === null)("cephfs offsets and split transfers", () => {
  test("a write at 5 GiB reads back; stat and lseek report the size; a transfer straddling 4 GiB works", () => {
    const { fs, cleanup } = freshBackend("big");
    try {
      const fd = fs.open("big", O_CREAT | O_RDWR, 0o644);
      const far = 5 * GiB + 12345;
      expect(fs.pwrite(fd, bytes("far away"), far)).toBe(8);
      expect(fs.stat("big").st_size).toBe(far + 8);
      expect(fs.lseek(fd, 0, 2)).toBe(far + 8);
      const into = new Uint8Array(8);
      expect(fs.pread(fd, into, far)).toBe(8);
      expect(text(into)).toBe("far away");
      const straddle = new Uint8Array(10_000).map((_, i) => patternByte(i));
      expect(fs.pwrite(fd, straddle, 4 * GiB - 5000)).toBe(10_000);
      const back = new Uint8Array(10_000);
      expect(fs.pread(fd, back, 4 * GiB - 5000)).toBe(10_000);
      expect(Buffer.from(back).equals(Buffer.from(straddle))).toBe(true);
      fs.close(fd);
    } finally {
      cleanup();
    }
  });

  test("with a 4 KiB piece limit, pread/pwrite/read/write and O_APPEND move whole buffers in pieces", () => {
    const { fs, cleanup } = freshBackend("split", { ioChunkBytes: 4096 });
    try {
      const data = new Uint8Array(100_003).map((_, i) => patternByte(i));
      const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
      expect(fs.pwrite(fd, data, 0)).toBe(data.length);
      const back = new Uint8Array(data.length + 100);
      expect(fs.pread(fd, back, 0)).toBe(data.length);
      expect(Buffer.from(back.subarray(0, data.length)).equals(Buffer.from(data))).toBe(true);
      expect(fs.pread(fd, back, 95_000)).toBe(5003);
      fs.lseek(fd, 0, SEEK_SET);
      expect(fs.write(fd, data.subarray(0, 50_000))).toBe(50_000);
      expect(fs.lseek(fd, 0, 1)).toBe(50_000);
      expect(fs.read(fd, back)).toBe(50_003);
      expect(Buffer.from(back.subarray(0, 50_003)).equals(Buffer.from(data.subarray(50_000)))).toBe(true);
      fs.close(fd);
      const appender = fs.open("f", O_WRONLY | O_APPEND, 0);
      expect(fs.pwrite(appender, data.subarray(0, 9000), 0)).toBe(9000);
      expect(fs.lseek(appender, 0, 1)).toBe(0);
      fs.close(appender);
      expect(fs.stat("f").st_size).toBe(data.length + 9000);
    } finally {
      cleanup();
    }
  });

  test("ioChunkBytes outside [1, 2^31 - 1] is refused", () => {
    const { mount, admin } = cluster();
    expect(admin.stat("").st_ino).toBeGreaterThan(0);
    expect(() => new CephBackend(mount.shared, BASE, { ioChunkBytes: 0 })).toThrow(RangeError);
    expect(() => new CephBackend(mount.shared, BASE, { ioChunkBytes: 2 ** 31 })).toThrow(RangeError);
  });
});

/** Starts the crash writer, waits for its report, SIGKILLs it, evicts its session; returns the bytes it wrote. */
async function writeAndKill(path: string, file: string, size: number, clientOc: boolean, fsync: boolean): Promise<number> {
  const writer = new URL("./cephfs-crash-writer.ts", import.meta.url).pathname;
  const options = JSON.stringify({ client_oc: String(clientOc) });
  const child = Bun.spawn([process.execPath, writer, conf!, path, file, String(size), options, fsync ? "fsync" : "none"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  let line = "";
  for await (const chunk of child.stdout) {
    line += new TextDecoder().decode(chunk);
    if (line.includes("\n")) break;
  }
  child.kill("SIGKILL");
  await child.exited;
  const report = JSON.parse(line) as { instanceId: number; written: number };
  // Without an eviction the MDS would wait for the dead session to time out before recovering the file's size.
  const evict = Bun.spawnSync(["ceph", "-c", conf!, "tell", "mds.*", "client", "evict", `id=${report.instanceId}`], { stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  expect(evict.exitCode).toBe(0);
  return report.written;
}

describe.skipIf(conf === null || Bun.which("ceph") === null)("cephfs durability of a write when the writer is SIGKILLed", () => {
  test("with client_oc=false a returned write survives; with the object cache only an fsynced one does", async () => {
    const { fs, path, cleanup } = freshBackend("crash");
    try {
      const size = 4 * 1024 * 1024 + 123;
      expect(await writeAndKill(path, "uncached", size, false, false)).toBe(size);
      expect(await writeAndKill(path, "cached", size, true, false)).toBe(size);
      expect(await writeAndKill(path, "cached-fsynced", size, true, true)).toBe(size);
      for (const name of ["uncached", "cached-fsynced"]) {
        const data = readBytes(fs, name);
        expect(data.length).toBe(size);
        expect(data.every((x, i) => x === patternByte(i))).toBe(true);
      }
      // Buffered in the dead client's object cache, never flushed: it did not reach the OSDs.
      expect(fs.stat("cached").st_size).toBeLessThan(size);
    } finally {
      cleanup();
    }
  }, 120_000);
});
