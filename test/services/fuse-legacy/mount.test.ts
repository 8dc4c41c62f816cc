/**
 * @module test/services/fuse-legacy/mount — the FUSE server mounted for real: the conformance suite through node:fs on
 * the mount point (a LocalBackend over a temp dir served), pjdfstest-style errno cases, exec and mmap of files on the
 * mount. Skipped with a printed reason when not root or without /dev/fuse (failed under CI=true).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import * as nodeFs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FuseServer } from "../../../services/fuse-legacy/server/index.ts";
import { makedev } from "../../../kernel/ipc/protocol/index.ts";
import { runConformance } from "../../conformance/index.ts";
import { NodeFsAdapter } from "../../conformance/node-fs-adapter.ts";
import { LOCAL_OPENER_MODULE, mountTestsSkipped, recordingLogger } from "./fixtures/mount-support.ts";

const skipped = mountTestsSkipped("mount.test.ts");
const base = nodeFs.mkdtempSync(join(tmpdir(), "danaus-fuse-"));
const mountPoint = join(base, "mnt");
const backing = join(base, "root");
nodeFs.mkdirSync(mountPoint);
nodeFs.mkdirSync(backing);
const logger = recordingLogger();
let server: FuseServer | undefined;
let counter = 0;

function errnoOf(call: () => unknown): string | undefined {
  try {
    call();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

/** A fresh directory on the mount, returned as (mount path, backing path). */
function freshDir(): [string, string] {
  const name = `t${++counter}`;
  nodeFs.mkdirSync(join(mountPoint, name));
  return [join(mountPoint, name), join(backing, name)];
}

afterAll(async () => {
  try {
    if (server !== undefined) expect(await server.stop()).toBe("unmounted");
  } finally {
    if (nodeFs.readFileSync("/proc/mounts", "utf8").includes(` ${mountPoint} `)) spawnSync("umount", ["-l", mountPoint]);
    nodeFs.rmSync(base, { recursive: true, force: true });
  }
});

if (skipped === undefined) {
  beforeAll(async () => {
    server = await FuseServer.start({
      mountPoint,
      opener: { module: LOCAL_OPENER_MODULE, spec: { root: backing } },
      logger,
      attrTimeoutMs: 1000,
      entryTimeoutMs: 1000,
    });
  });


  test("INIT negotiated protocol 7.31 with max pages", () => {
    expect(server?.protocol.minor).toBe(31);
    expect(nodeFs.readFileSync("/proc/mounts", "utf8")).toContain(`${mountPoint} fuse.danaus`);
  });

  runConformance("FUSE mount of a LocalBackend, through node:fs", {
    async newFs() {
      const [dir] = freshDir();
      return { fs: new NodeFsAdapter(dir), cleanup: () => nodeFs.rmSync(dir, { recursive: true, force: true }) };
    },
    capabilities: { renameFlags: false, fifoIo: true, deepPaths: false },
  });

  describe("pjdfstest-style errno cases through the mount", () => {
    test("ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, ENAMETOOLONG, ELOOP", () => {
      const [dir] = freshDir();
      expect(errnoOf(() => nodeFs.statSync(join(dir, "missing")))).toBe("ENOENT");
      expect(errnoOf(() => nodeFs.openSync(join(dir, "missing/x"), "r"))).toBe("ENOENT");
      nodeFs.mkdirSync(join(dir, "d"));
      expect(errnoOf(() => nodeFs.mkdirSync(join(dir, "d")))).toBe("EEXIST");
      nodeFs.writeFileSync(join(dir, "f"), "data");
      expect(errnoOf(() => nodeFs.openSync(join(dir, "f"), "wx"))).toBe("EEXIST");
      expect(errnoOf(() => nodeFs.statSync(join(dir, "f/x")))).toBe("ENOTDIR");
      expect(errnoOf(() => nodeFs.mkdirSync(join(dir, "f/x")))).toBe("ENOTDIR");
      expect(errnoOf(() => nodeFs.rmdirSync(join(dir, "f")))).toBe("ENOTDIR");
      expect(errnoOf(() => nodeFs.openSync(join(dir, "d"), "w"))).toBe("EISDIR");
      expect(errnoOf(() => nodeFs.unlinkSync(join(dir, "d")))).toBe("EISDIR");
      nodeFs.writeFileSync(join(dir, "d/child"), "");
      expect(errnoOf(() => nodeFs.rmdirSync(join(dir, "d")))).toBe("ENOTEMPTY");
      expect(errnoOf(() => nodeFs.renameSync(join(dir, "f"), join(dir, "d")))).toBe("EISDIR");
      const long = "a".repeat(256);
      expect(errnoOf(() => nodeFs.writeFileSync(join(dir, long), ""))).toBe("ENAMETOOLONG");
      expect(errnoOf(() => nodeFs.mkdirSync(join(dir, long)))).toBe("ENAMETOOLONG");
      nodeFs.writeFileSync(join(dir, "a".repeat(255)), "ok");
      expect(nodeFs.readFileSync(join(dir, "a".repeat(255)), "utf8")).toBe("ok");
      nodeFs.symlinkSync("loop2", join(dir, "loop1"));
      nodeFs.symlinkSync("loop1", join(dir, "loop2"));
      expect(errnoOf(() => nodeFs.statSync(join(dir, "loop1")))).toBe("ELOOP");
      expect(errnoOf(() => nodeFs.openSync(join(dir, "loop1"), "r"))).toBe("ELOOP");
    });

    test("default_permissions: another user reads a 0644 file but gets EACCES on a 0600 one", () => {
      const [dir] = freshDir();
      nodeFs.chmodSync(base, 0o755);
      nodeFs.chmodSync(dir, 0o755);
      nodeFs.writeFileSync(join(dir, "public"), "open", { mode: 0o644 });
      nodeFs.writeFileSync(join(dir, "private"), "secret", { mode: 0o600 });
      const asNobody = (file: string) =>
        spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "cat", join(dir, file)], { encoding: "utf8", timeout: 10_000 });
      const open = asNobody("public");
      if (open.error !== undefined) return; // no setpriv here: nothing to check
      expect(open.stdout).toBe("open");
      const denied = asNobody("private");
      expect(denied.status).not.toBe(0);
      expect(denied.stderr).toContain("Permission denied");
    });

    test("unlink and rename update the node table: old names vanish, new names resolve", () => {
      const [dir, real] = freshDir();
      nodeFs.mkdirSync(join(dir, "a/b"), { recursive: true });
      nodeFs.writeFileSync(join(dir, "a/b/f"), "one");
      nodeFs.renameSync(join(dir, "a"), join(dir, "z"));
      expect(nodeFs.readFileSync(join(dir, "z/b/f"), "utf8")).toBe("one");
      expect(errnoOf(() => nodeFs.statSync(join(dir, "a/b/f")))).toBe("ENOENT");
      nodeFs.unlinkSync(join(dir, "z/b/f"));
      nodeFs.writeFileSync(join(dir, "z/b/f"), "two");
      expect(nodeFs.readFileSync(join(dir, "z/b/f"), "utf8")).toBe("two");
      expect(nodeFs.readFileSync(join(real, "z/b/f"), "utf8")).toBe("two");
    });

    test("a large directory lists completely through several READDIR replies", () => {
      const [dir] = freshDir();
      const names = Array.from({ length: 600 }, (_, i) => `entry-with-a-longish-name-${i}`);
      for (const name of names) nodeFs.writeFileSync(join(dir, name), "");
      expect(nodeFs.readdirSync(dir).sort()).toEqual([...names].sort());
    });
  });

  describe("unmodified binaries on the mount", () => {
    test("exec of a #!/bin/sh script stored on the mount", () => {
      const [dir] = freshDir();
      const script = join(dir, "hello.sh");
      nodeFs.writeFileSync(script, "#!/bin/sh\necho \"hello from $0 $1\"\n", { mode: 0o755 });
      const run = spawnSync(script, ["arg"], { encoding: "utf8", timeout: 10_000 });
      expect(run.error).toBeUndefined();
      expect(run.status).toBe(0);
      expect(run.stdout).toBe(`hello from ${script} arg\n`);
    });

    test("exec of a copied ELF binary (/bin/true) from the mount", () => {
      const [dir] = freshDir();
      const copy = join(dir, "true");
      nodeFs.copyFileSync("/bin/true", copy);
      nodeFs.chmodSync(copy, 0o755);
      const run = spawnSync(copy, [], { timeout: 10_000 });
      expect(run.error).toBeUndefined();
      expect(run.status).toBe(0);
    });

    test("mmap of a file on the mount (read and shared write) from a child process", () => {
      const python = spawnSync("python3", ["-c", "print(1)"], { encoding: "utf8" });
      const [dir, real] = freshDir();
      const file = join(dir, "mapped");
      nodeFs.writeFileSync(file, "0123456789abcdef".repeat(512));
      if (python.status === 0) {
        const code = [
          "import mmap, sys",
          "f = open(sys.argv[1], 'r+b')",
          "m = mmap.mmap(f.fileno(), 0)",
          "sys.stdout.write(m[10:16].decode())",
          "m[0:4] = b'MMAP'",
          "m.flush(); m.close(); f.close()",
        ].join("\n");
        const run = spawnSync("python3", ["-c", code, file], { encoding: "utf8", timeout: 10_000 });
        expect(run.stderr).toBe("");
        expect(run.stdout).toBe("abcdef");
        expect(nodeFs.readFileSync(join(real, "mapped"), "utf8").slice(0, 6)).toBe("MMAP45");
      } else {
        const run = spawnSync("dd", [`if=${file}`, "bs=4096", "skip=1", "count=1", "status=none"], { encoding: "utf8" });
        expect(run.stdout).toBe("0123456789abcdef".repeat(256));
      }
    });
  });

  describe("FIFOs, sockets and devices on the mount (mknod)", () => {
    test("mkfifo on the mount: a writer process and a reader process pass bytes through it", async () => {
      const [dir, real] = freshDir();
      const fifo = join(dir, "pipe");
      const made = spawnSync("mkfifo", ["-m", "0640", fifo], { encoding: "utf8" });
      expect(made.stderr).toBe("");
      expect(made.status).toBe(0);
      expect(nodeFs.lstatSync(fifo).isFIFO()).toBe(true);
      expect(nodeFs.lstatSync(join(real, "pipe")).isFIFO()).toBe(true);
      expect(nodeFs.lstatSync(fifo).mode & 0o777).toBe(0o640 & ~process.umask());
      // More than a pipe holds (64 KiB), so the two really take turns; the kernel moves the bytes, not the server.
      const data = nodeFs.readFileSync("/bin/true").subarray(0, 48 * 1024);
      const source = join(base, `fifo-source-${counter}`);
      nodeFs.writeFileSync(source, Buffer.concat([data, data, data, data]));
      const reader = Bun.spawn(["cat", fifo], { stdout: "pipe", stderr: "pipe" });
      const writer = Bun.spawn(["sh", "-c", 'cat "$1" > "$2"', "sh", source, fifo], { stderr: "pipe" });
      const timer = setTimeout(() => (reader.kill("SIGKILL"), writer.kill("SIGKILL")), 10_000);
      try {
        const [received, writerStatus, readerStatus] = await Promise.all([new Response(reader.stdout).arrayBuffer(), writer.exited, reader.exited]);
        expect(writerStatus).toBe(0);
        expect(readerStatus).toBe(0);
        expect(Buffer.from(received).equals(nodeFs.readFileSync(source))).toBe(true);
      } finally {
        clearTimeout(timer);
      }
      expect(nodeFs.statSync(join(real, "pipe")).size).toBe(0);
    });

    test("a Unix socket bound on the mount accepts a connection from another process", () => {
      const [dir, real] = freshDir();
      const path = join(dir, "sock");
      const code = [
        "const path = process.argv[1];",
        "const server = Bun.listen({ unix: path, socket: { data(s, d) { s.write(`echo ${d}`); } } });",
        "const client = `const c = await Bun.connect({ unix: process.argv[1], socket: { data(s, d) { process.stdout.write(String(d)); process.exit(0); } } }); c.write('ping');`;",
        "const child = Bun.spawn([process.execPath, '-e', client, path], { stdout: 'pipe' });",
        "process.stdout.write(await new Response(child.stdout).text());",
        "process.stdout.write(require('node:fs').lstatSync(path).isSocket() ? ', a socket' : ', not a socket');",
        "server.stop(true);",
      ].join("\n");
      const run = spawnSync(process.execPath, ["-e", code, path], { encoding: "utf8", timeout: 20_000 });
      expect(run.stderr).toBe("");
      expect(run.stdout).toBe("echo ping, a socket");
      // Bun unlinks the socket when its server stops.
      expect(nodeFs.readdirSync(real)).toEqual([]);
    });

    test("devices: root makes them with their number, nobody reaches them through the mount, a user gets EPERM", () => {
      const [dir, real] = freshDir();
      nodeFs.chmodSync(base, 0o755);
      nodeFs.chmodSync(dir, 0o777);
      for (const [type, major, minor] of [["c", 1, 5], ["b", 259, 0x12345]] as const) {
        const made = spawnSync("mknod", ["-m", "0666", join(dir, `dev-${type}`), type, String(major), String(minor)], { encoding: "utf8" });
        expect(made.stderr).toBe("");
        expect(made.status).toBe(0);
        const st = nodeFs.lstatSync(join(dir, `dev-${type}`));
        expect(type === "c" ? st.isCharacterDevice() : st.isBlockDevice()).toBe(true);
        expect(st.rdev).toBe(makedev(major, minor));
        expect(nodeFs.lstatSync(join(real, `dev-${type}`)).rdev).toBe(makedev(major, minor));
        // The mount is nodev: the kernel refuses the open before the server hears of it.
        const read = spawnSync("head", ["-c", "4", join(dir, `dev-${type}`)], { encoding: "utf8" });
        expect(read.status).not.toBe(0);
        expect(read.stderr).toContain("Permission denied");
      }
      expect(nodeFs.readdirSync(dir, { withFileTypes: true }).map((e) => [e.name, e.isCharacterDevice(), e.isBlockDevice()]).sort())
        .toEqual([["dev-b", false, true], ["dev-c", true, false]]);
      // The same /dev/zero outside the mount is the device itself.
      expect(spawnSync("head", ["-c", "4", join(real, "dev-c")]).stdout).toEqual(Buffer.alloc(4));
      const asNobody = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "mknod", join(dir, "user-c"), "c", "1", "5"], { encoding: "utf8" });
      expect(asNobody.status).not.toBe(0);
      expect(asNobody.stderr).toContain("Operation not permitted");
      expect(nodeFs.readdirSync(real).sort()).toEqual(["dev-b", "dev-c"]);
    });
  });

  test("directIo: a second mount with FOPEN_DIRECT_IO reads and writes through the server", async () => {
    const directMount = join(base, "direct");
    nodeFs.mkdirSync(directMount);
    const direct = await FuseServer.start({ mountPoint: directMount, opener: { module: LOCAL_OPENER_MODULE, spec: { root: backing } }, logger, directIo: true, attrTimeoutMs: 0, entryTimeoutMs: 0 });
    try {
      const data = Buffer.alloc(3 * 128 * 1024 + 17, 7);
      nodeFs.writeFileSync(join(directMount, "direct-file"), data);
      expect(nodeFs.readFileSync(join(backing, "direct-file")).equals(data)).toBe(true);
      expect(nodeFs.readFileSync(join(directMount, "direct-file")).equals(data)).toBe(true);
      expect(nodeFs.statSync(join(directMount, "direct-file")).size).toBe(data.length);
    } finally {
      expect(await direct.stop()).toBe("unmounted");
    }
  });

  test("no handler threw during the run (nothing answered EIO)", () => {
    expect(logger.lines.filter((line) => line.level === "error")).toEqual([]);
  });
} else {
  test.skip(`FUSE mount tests (${skipped})`, () => undefined);
}
