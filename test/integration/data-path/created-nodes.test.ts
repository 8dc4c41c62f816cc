/**
 * Created nodes get the modes a kernel filesystem gives them, on both front ends and both backends, judged against a
 * host directory (differential): unmodified programs (Debian's python3 and coreutils) under umask 000, 022 and 077
 * create files, directories (set-group-ID and sticky bits asked for), FIFOs, sockets and devices through a legacy FUSE
 * mount — direct and union, on the local backend and on CephFS — and the same operations go through the shared-memory
 * client, which applies its program's umask itself. As a user (not root) the same, with EPERM for devices. A union
 * copies a lower device, FIFO, set-user-ID file and set-group-ID directory up with their modes and numbers, and no
 * device is ever reached through a mount.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, constants, lstatSync, lutimesSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMountPoint } from "../../../kernel/sys/mounts.ts";
import { CephBackend, CephMount, LocalBackend } from "../../../services/client-cache/backend/index.ts";
import { FsError, makedev, O, type FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import { DanausClient } from "../../../shims/ts/client.ts";
import { testCephConf } from "../../ceph.ts";
import { removeTree } from "../../services/client-cache/backend/cephfs-tree.ts";
import { Harness, LAST_CPU, waitFor } from "../harness.ts";
import type { ProbeOp, ProbeOutput } from "./created-nodes-probe.ts";
import { fuseTestsRun } from "./legacy-fixture.ts";

setDefaultTimeout(120_000);
const FILE = "created-nodes.test.ts";
const run = fuseTestsRun(FILE);
const conf = run ? testCephConf(FILE) : null;
const { S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK } = constants;
const NOBODY = 65534;
const PYTHON = "/usr/bin/python3";
const CLIENT_PROBE = join(import.meta.dir, "created-nodes-probe.ts");
const LOWER = "images/base/layer0";
const UPPER = "containers/c1/upper";
const cephRoot = `/danaus-it-modes-${process.pid}`;

/** The Python probe: runs the operations in argv[2] (JSON) in directory argv[1], prints outcomes and lstats (JSON). */
const PYTHON_PROBE = `
import errno, json, os, subprocess, sys
os.chdir(sys.argv[1])
ops = json.loads(sys.argv[2])
def run(op):
    kind = op["op"]
    if kind == "open": os.close(os.open(op["name"], os.O_CREAT | os.O_EXCL | os.O_WRONLY, op["mode"]))
    elif kind == "mkdir": os.mkdir(op["name"], op["mode"])
    elif kind == "chmod": os.chmod(op["name"], op["mode"])
    elif kind == "mknod": os.mknod(op["name"], op["mode"], op["rdev"])
    elif kind == "symlink": os.symlink(op["target"], op["name"])
    else: return "ok" if subprocess.run(op["argv"], stderr=subprocess.DEVNULL).returncode == 0 else "failed"
    return "ok"
def outcome(op):
    try: return run(op)
    except OSError as e: return errno.errorcode.get(e.errno, str(e.errno))
results = [outcome(op) for op in ops]
stats = {}
for op in ops:
    try:
        st = os.lstat(op["name"])
        stats[op["name"]] = [st.st_mode, st.st_uid, st.st_gid, st.st_rdev]
    except OSError as e:
        stats[op["name"]] = errno.errorcode.get(e.errno, str(e.errno))
print(json.dumps({"results": results, "stats": stats}))
`;

const octal = (mode: number) => mode.toString(8);

/** The system calls both probes make: every requested mode of interest, devices, and a set-group-ID directory. */
const CALLS: ProbeOp[] = [
  ...[0o666, 0o644, 0o620, 0o600, 0o777, 0o4755, 0o2755, 0o6777, 0o1644].map((mode) => ({ op: "open" as const, name: `f${octal(mode)}`, mode })),
  ...[0o777, 0o755, 0o700, 0o2775, 0o1777, 0o3777, 0o7777].map((mode) => ({ op: "mkdir" as const, name: `d${octal(mode)}`, mode })),
  ...[0o666, 0o640, 0o600, 0o1666].map((mode) => ({ op: "mknod" as const, name: `p${octal(mode)}`, mode: S_IFIFO | mode, rdev: 0 })),
  { op: "mknod", name: "sock", mode: S_IFSOCK | 0o777, rdev: 0 },
  { op: "mknod", name: "chr", mode: S_IFCHR | 0o666, rdev: makedev(1, 5) },
  { op: "mknod", name: "blk", mode: S_IFBLK | 0o640, rdev: makedev(259, 0x12345) },
  { op: "mknod", name: "reg", mode: 0o646, rdev: 0 },
  { op: "mkdir", name: "sg", mode: 0o777 },
  { op: "chmod", name: "sg", mode: 0o2777 },
  { op: "mkdir", name: "sg/sub", mode: 0o755 },
  { op: "open", name: "sg/f", mode: 0o2775 },
  { op: "mknod", name: "sg/p", mode: S_IFIFO | 0o666, rdev: 0 },
  { op: "symlink", name: "link", target: "f666" },
];

/** The same through unmodified programs, which leave the mode to the umask (no -m: no chmod afterwards). */
const PROGRAMS: ProbeOp[] = [
  { op: "sh", name: "touched", argv: ["touch", "touched"] },
  { op: "sh", name: "made-dir", argv: ["mkdir", "made-dir"] },
  { op: "sh", name: "fifo", argv: ["mkfifo", "fifo"] },
  { op: "sh", name: "null", argv: ["mknod", "null", "c", "1", "3"] },
  { op: "sh", name: "copied", argv: ["cp", "/etc/hostname", "copied"] },
];

/** What a user may do: the same without chmod of a directory it does not own, in a set-group-ID directory of root's. */
const USER_CALLS: ProbeOp[] = [...CALLS.filter((op) => !op.name.startsWith("sg")), ...[
  { op: "mkdir", name: "rootsg/sub", mode: 0o2777 },
  { op: "open", name: "rootsg/f", mode: 0o2775 },
  { op: "open", name: "rootsg/g", mode: 0o4755 },
] as ProbeOp[], ...PROGRAMS];

/** Runs `argv` under `umask`, as root or as `uid`; returns its JSON output. */
function runProbe(argv: string[], umask: number, uid?: number): ProbeOutput {
  const shell = ["sh", "-c", `umask ${octal(umask)}; exec "$0" "$@"`, ...argv];
  const command = uid === undefined ? shell : ["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--", ...shell];
  const done = spawnSync(command[0]!, command.slice(1), { encoding: "utf8" });
  if (done.status !== 0) throw new Error(`probe ${argv.slice(0, 2).join(" ")} failed (${done.status}): ${done.stderr}`);
  return JSON.parse(done.stdout) as ProbeOutput;
}

/** The Python probe's output for `ops` in the fresh directory `dir`. */
function pythonProbe(dir: string, ops: ProbeOp[], umask: number, uid?: number): ProbeOutput {
  return runProbe([PYTHON, "-c", PYTHON_PROBE, dir, JSON.stringify(ops)], umask, uid);
}

/** The client probe's output for `ops` in `dir` (a client path) of the tenant behind `socket`. */
function clientProbe(socket: string, dir: string, ops: ProbeOp[], umask: number): ProbeOutput {
  return runProbe([process.execPath, CLIENT_PROBE, socket, dir, JSON.stringify(ops)], umask);
}

/** One legacy mount under test. */
interface Target {
  readonly name: string;
  readonly mount: string;
  readonly socket: () => string;
  /** The backend's root, to look at a union's upper and lower. */
  readonly backend: () => FileSystem;
  readonly union: boolean;
}

const base = mkdtempSync(join(tmpdir(), "danaus-modes-"));
chmodSync(base, 0o755);
const hostDir = join(base, "host");
let h: Harness | undefined;
let cephAdmin: CephMount | undefined;
let counter = 0;

function tenantFile(name: string, cpu: number, backend: string, memory: string): string {
  const mount = (kind: string, table: string) => [`[[mounts]]`, `path = "${join(base, `${name}-${kind}`)}"`, table, `legacy = true`].join("\n");
  return [`name = "${name}"`, `cpus = [${cpu}]`, `memory = "${memory}"`, `shareCpus = true`, `[backend]`, backend,
    mount("direct", `source = "data"`), mount("union", `upper = "${UPPER}"\nlowers = ["${LOWER}"]`)].join("\n");
}

const TARGETS: Target[] = [];
const socketOf = (tenant: string) => () => join(h!.dir, "state/run", tenant, "router.sock");
const localBackend = () => new LocalBackend(join(h!.dir, "state/backends/alpha"));
const cephBackend = () => new CephBackend(cephAdmin!.shared, cephRoot);
for (const union of [false, true]) {
  TARGETS.push({ name: `local ${union ? "union" : "direct"}`, mount: join(base, `alpha-${union ? "union" : "direct"}`), socket: socketOf("alpha"), backend: localBackend, union });
  if (conf) TARGETS.push({ name: `cephfs ${union ? "union" : "direct"}`, mount: join(base, `beta-${union ? "union" : "direct"}`), socket: socketOf("beta"), backend: cephBackend, union });
}

/** mkdir -p of `path` through `fs`. */
function mkdirs(fs: FileSystem, path: string): void {
  let at = "";
  for (const part of path.split("/")) {
    at = at === "" ? part : `${at}/${part}`;
    try {
      fs.mkdir(at, 0o755);
    } catch (error) {
      if (!(error instanceof FsError) || error.code !== "EEXIST") throw error;
    }
  }
}

/** The image layer the unions stack on: nodes whose modes and numbers a copy-up must keep. */
function writeLower(fs: FileSystem): void {
  const at = `${LOWER}/lower`;
  mkdirs(fs, at);
  fs.close(fs.open(`${at}/suid`, O.CREAT | O.WRONLY, 0o600));
  fs.mkdir(`${at}/sgid`, 0o700);
  fs.close(fs.open(`${at}/sgid/x`, O.CREAT | O.WRONLY, 0o600));
  fs.mkdir(`${at}/sticky`, 0o700);
  fs.mknod(`${at}/pipe`, S_IFIFO | 0o600, 0);
  fs.mknod(`${at}/zero`, S_IFCHR | 0o600, makedev(1, 5));
  fs.mknod(`${at}/blk`, S_IFBLK | 0o600, makedev(259, 0x12345));
  const modes: Record<string, number> = { suid: 0o4751, sgid: 0o2755, "sgid/x": 0o640, sticky: 0o1777, pipe: 0o640, zero: 0o620, blk: 0o604 };
  for (const [name, mode] of Object.entries(modes)) fs.chmod(`${at}/${name}`, mode);
}

beforeAll(async () => {
  if (!run) return;
  mkdirSync(hostDir, { mode: 0o755 });
  const tenants: Record<string, string> = { alpha: tenantFile("alpha", 0, `kind = "local"\nroot = "backends/alpha"`, "384MiB") };
  if (conf) {
    tenants.beta = tenantFile("beta", LAST_CPU, `kind = "cephfs"\nconf = "${conf}"\nroot = "${cephRoot}"`, "512MiB");
    cephAdmin = CephMount.open({ conf, clientId: "admin" });
    const admin = new CephBackend(cephAdmin.shared, "");
    admin.mkdir(cephRoot, 0o755);
    writeLower(cephBackend());
  }
  h = new Harness({ tenants });
  writeLower(localBackend());
  await h.start(Object.keys(tenants));
  for (const target of TARGETS) await waitFor(`the FUSE mount ${target.mount}`, () => isMountPoint(target.mount), 60_000);
}, 120_000);

afterAll(async () => {
  try {
    await h?.stop();
  } finally {
    for (const target of TARGETS) if (isMountPoint(target.mount)) spawnSync("umount", ["-l", target.mount]);
    spawnSync("rm", ["-rf", "--one-file-system", base]);
    if (cephAdmin !== undefined) {
      try {
        removeTree(new CephBackend(cephAdmin.shared, ""), cephRoot);
      } finally {
        cephAdmin.close();
      }
    }
  }
}, 120_000);

/** A fresh directory, mode 0777, in the host reference and on `mount`: [host path, mount path]. */
function freshPair(mount: string, tag: string): [string, string] {
  const name = `${tag}-${++counter}`;
  const pair: [string, string] = [join(hostDir, name), join(mount, name)];
  for (const dir of pair) {
    mkdirSync(dir);
    chmodSync(dir, 0o777);
  }
  return pair;
}

describe.skipIf(!run)("modes of created nodes: a legacy mount gives what a host directory gives", () => {
  test("every mount's root directory is 0755, so users other than root may search it", () => {
    for (const target of TARGETS) expect([target.name, lstatSync(target.mount).mode & 0o7777]).toEqual([target.name, 0o755]);
  });
  test("the service processes run with umask 0, yet nothing else they made is writable by others", async () => {
    const tenants = conf ? ["alpha", "beta"] : ["alpha"];
    for (const tenant of tenants) {
      for (const pid of Object.values(await h!.pids(tenant))) {
        expect(/^Umask:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]).toBe("0000");
      }
    }
    const made: string[] = [];
    const walk = (path: string): void => {
      made.push(path);
      if (lstatSync(path).isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
    };
    for (const tenant of tenants) {
      walk(join(h!.dir, "state/run", tenant));
      for (const name of readdirSync("/dev/shm")) if (name.startsWith(`danaus.${h!.instance}.${tenant}.`)) made.push(join("/dev/shm", name));
    }
    made.push(join(h!.dir, "state/backends/alpha"), join(h!.dir, "state/backends/alpha/containers/c1"));
    expect(made.filter((path) => (lstatSync(path).mode & 0o022) !== 0)).toEqual([]);
    expect(made.some((path) => path.endsWith("router.sock"))).toBe(true);
    expect(made.some((path) => path.startsWith("/dev/shm/"))).toBe(true);
  });
  for (const target of TARGETS) {
    for (const umask of [0o000, 0o022, 0o077]) {
      test(`${target.name}, as root, umask ${octal(umask).padStart(3, "0")}: system calls and coreutils`, () => {
        const [host, mounted] = freshPair(target.mount, `root-${octal(umask)}`);
        const expected = pythonProbe(host, [...CALLS, ...PROGRAMS], umask);
        // The reference itself: exactly the umask taken off, devices made, set-group-ID inherited.
        expect(expected.stats.f666).toEqual([constants.S_IFREG | (0o666 & ~umask), 0, 0, 0]);
        expect(expected.stats.chr).toEqual([S_IFCHR | (0o666 & ~umask), 0, 0, makedev(1, 5)]);
        expect((expected.stats["sg/sub"] as number[])[0]! & 0o2000).toBe(0o2000);
        expect(pythonProbe(mounted, [...CALLS, ...PROGRAMS], umask)).toEqual(expected);
      });
    }
    test(`${target.name}, as a user, umask 022: set-ID bits kept on its own files, devices EPERM`, () => {
      const [host, mounted] = freshPair(target.mount, "user");
      for (const dir of [host, mounted]) {
        mkdirSync(join(dir, "rootsg"));
        chmodSync(join(dir, "rootsg"), 0o2777);
      }
      const expected = pythonProbe(host, USER_CALLS, 0o022, NOBODY);
      expect(expected.stats.chr).toBe("ENOENT");
      expect(expected.results[USER_CALLS.findIndex((op) => op.name === "chr")]).toBe("EPERM");
      expect(expected.stats.f4755).toEqual([constants.S_IFREG | 0o4755, NOBODY, NOBODY, 0]);
      expect(pythonProbe(mounted, USER_CALLS, 0o022, NOBODY)).toEqual(expected);
    });
    test(`${target.name}, the shared-memory client: the program's umask (022, 077) applied once`, () => {
      for (const umask of [0o022, 0o077]) {
        const [host, mounted] = freshPair(target.mount, `client-${octal(umask)}`);
        const expected = pythonProbe(host, CALLS, umask);
        expect(clientProbe(target.socket(), mounted, CALLS, umask)).toEqual(expected);
      }
    });
  }
});

describe.skipIf(!run)("devices and copy-up through a union", () => {
  // A directory's entry before the directory: copying the entry up changes the directory's times again.
  const names = ["suid", "sgid/x", "sgid", "sticky", "pipe", "zero", "blk"];
  for (const target of TARGETS.filter((t) => t.union)) {
    test(`${target.name}: a copy-up keeps type, mode, owner and device number; the device is never reached`, () => {
      const before = new Map(names.map((name) => [name, lstatSync(join(target.mount, "lower", name))]));
      expect(before.get("zero")!.isCharacterDevice()).toBe(true);
      expect(before.get("zero")!.rdev).toBe(makedev(1, 5));
      // Changing the times copies each up (a directory first, then what is in it).
      for (const name of names) lutimesSync(join(target.mount, "lower", name), 1_000, 2_000);
      const backend = target.backend();
      for (const name of names) {
        const was = before.get(name)!;
        const now = lstatSync(join(target.mount, "lower", name));
        expect([now.mode, now.uid, now.gid, now.rdev, now.mtimeMs]).toEqual([was.mode, was.uid, was.gid, was.rdev, 2_000_000]);
        const upper = backend.lstat(`${UPPER}/lower/${name}`);
        expect([upper.st_mode, upper.st_rdev, upper.st_mtime_sec]).toEqual([was.mode, was.rdev, 2_000]);
        // The image layer is never written.
        expect(backend.lstat(`${LOWER}/lower/${name}`).st_mtime_sec).not.toBe(2_000);
      }
      const types = Object.fromEntries(readdirSync(join(target.mount, "lower"), { withFileTypes: true })
        .map((entry) => [entry.name, entry.isCharacterDevice() ? "c" : entry.isBlockDevice() ? "b" : entry.isFIFO() ? "p" : entry.isDirectory() ? "d" : "f"]));
      expect(types).toEqual({ suid: "f", sgid: "d", sticky: "d", pipe: "p", zero: "c", blk: "b" });
      // nodev: the kernel refuses to open a device on the mount; the client's open answers the same.
      for (const name of ["zero", "blk"]) {
        for (const flags of [constants.O_RDONLY, constants.O_WRONLY]) {
          expect(() => openSync(join(target.mount, "lower", name), flags)).toThrow(expect.objectContaining({ code: "EACCES" }));
        }
      }
      const read = spawnSync("head", ["-c", "4", join(target.mount, "lower", "zero")], { encoding: "utf8" });
      expect(read.stderr).toContain("Permission denied");
      const client = DanausClient.connect({ socket: target.socket() });
      try {
        expect(() => client.open(join(target.mount, "lower", "zero"), constants.O_RDONLY, 0)).toThrow(expect.objectContaining({ code: "EACCES" }));
        // A new device in the union, made through the client, is listed with its number.
        client.mknod(join(target.mount, "lower", "tty"), S_IFCHR | 0o600, makedev(5, 0));
        expect(client.lstat(join(target.mount, "lower", "tty")).st_rdev).toBe(makedev(5, 0));
        expect(lstatSync(join(target.mount, "lower", "tty")).rdev).toBe(makedev(5, 0));
      } finally {
        client.disconnect();
      }
    });
  }
});
