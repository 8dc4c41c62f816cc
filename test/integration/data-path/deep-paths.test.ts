/**
 * Paths deeper than PATH_MAX on the kernel path: a directory chain made one level at a time (`cd` into each new
 * directory, as a shell would) through legacy FUSE mounts — fuse-legacy → ring → tenant service — of the local
 * backend, of a union and, when DANAUS_CEPH_CONF names a cluster, of the cephfs backend. The same python3 program runs
 * on a host directory under /tmp and on each mount, and must print the same results and errnos: the chain listed, a
 * file written, read and stat'ed at the bottom, a directory in the middle renamed (the bottom reached again through
 * it, by `..` and by dir fds), a 255-byte name created and a 256-byte one refused, everything removed. Past
 * DANAUS_PATH_MAX bytes (what one request window carries: fuse-legacy stages the paths ahead) the chain goes on, as on
 * a kernel filesystem. Skipped with a printed
 * reason when not root or without /dev/fuse (failed under CI=true); the cephfs mount is skipped with a printed reason
 * without a cluster.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DANAUS_PATH_MAX } from "../../../kernel/ipc/protocol/index.ts";
import { isMountPoint } from "../../../kernel/sys/mounts.ts";
import { removeCephTree } from "../../services/client-cache/backend/cephfs-tree.ts";
import { Harness, LAST_CPU, waitFor } from "../harness.ts";
import { fuseTestsRun } from "./legacy-fixture.ts";

// A union looks a path up one name at a time: on a loaded 2-core machine its 12,000-byte case took 65 s.
setDefaultTimeout(300_000);
const run = fuseTestsRun("deep-paths.test.ts");
const conf = process.env.DANAUS_CEPH_CONF;
if (conf === undefined) process.stderr.write("SKIP deep-paths.test.ts on cephfs: DANAUS_CEPH_CONF names no Ceph cluster\n");
const cephRoot = `/danaus-it-deep-${process.pid}`;
const base = mkdtempSync(join(tmpdir(), "danaus-deep-"));
const MOUNTS: Record<string, string> = { local: join(base, "local"), union: join(base, "union"), ...(conf ? { cephfs: join(base, "cephfs") } : {}) };
const HOST = join(base, "host");
let h: Harness | undefined;

/** What both scenarios start with: argv (the directory to work in, the chain's bytes), and `r`, which logs a call's result or errno. */
const PRELUDE = String.raw`
import errno, os, stat, sys
root, total = sys.argv[1], int(sys.argv[2])
log = []
def r(label, call):
    try:
        value = call()
        log.append(f"{label}: {'' if value is None else value}")
    except OSError as e:
        log.append(f"{label}: {errno.errorcode[e.errno]}")
`;

/** The scenario, with its results and errnos printed one a line. */
const SCENARIO = PRELUDE + String.raw`
def read_at(fd, name):
    f = os.open(name, os.O_RDONLY, dir_fd=fd)
    try:
        return os.read(f, 100).decode()
    finally:
        os.close(f)
names = [f"{i:03d}" + "d" * 197 for i in range(-(-total // 201))]
os.mkdir(root, 0o755)
os.chdir(root)
for n in names:
    os.mkdir(n, 0o755)
    os.chdir(n)
depth = len(names)
log.append(f"depth {depth}, {201 * depth} bytes below the start")
r("getcwd below the start", lambda: len(os.getcwd()) - len(root))
with open("f", "w") as out:
    out.write("deep")
r("read", lambda: open("f").read())
r("stat f", lambda: (os.stat("f").st_size, stat.S_ISREG(os.stat("f").st_mode)))
r("stat .", lambda: stat.S_ISDIR(os.stat(".").st_mode))
r("list bottom", lambda: sorted(os.listdir(".")))
r("list ten up", lambda: sorted(n[:3] for n in os.listdir("../" * 10)))
r("name 255", lambda: open("n" * 255, "w").close())
r("name 256", lambda: open("n" * 256, "w").close())
r("mkdir 256", lambda: os.mkdir("n" * 256))
r("names", lambda: sorted(len(n) for n in os.listdir(".")))
r("unlink 255", lambda: os.unlink("n" * 255))
fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
r("mkdir dir_fd", lambda: os.mkdir("sub", 0o700, dir_fd=fd))
r("stat dir_fd", lambda: (stat.S_ISDIR(os.stat("sub", dir_fd=fd).st_mode), oct(os.stat("sub", dir_fd=fd).st_mode & 0o777)))
r("rename dir_fd", lambda: os.rename("sub", "sub2", src_dir_fd=fd, dst_dir_fd=fd))
r("rmdir dir_fd", lambda: os.rmdir("sub2", dir_fd=fd))
os.close(fd)
middle = 25
up = "../" * (depth - middle)
r("rename middle", lambda: os.rename(up + names[middle], up + "renamed"))
r("read after rename", lambda: open("f").read())
r("list renamed parent", lambda: sorted(n[:7] for n in os.listdir(up)))
r("stat old name", lambda: os.stat(up + names[middle]))
walked = names[:middle] + ["renamed"] + names[middle + 1:]
fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
for n in walked:
    child = os.open(n, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = child
r("read by dir fds", lambda: read_at(fd, "f"))
r("same directory", lambda: os.fstat(fd).st_ino == os.stat(".").st_ino)
os.close(fd)
r("unlink f", lambda: os.unlink("f"))
for n in reversed(walked):
    os.chdir("..")
    os.rmdir(n)
r("empty", lambda: os.listdir("."))
os.chdir("/")
os.rmdir(root)
print("\n".join(log))
`;

/**
 * Past a request window's DANAUS_PATH_MAX bytes (fuse-legacy then stages its paths ahead of the request): `cd` down
 * 255-byte names (as few levels as can be: a union's cost grows with the square of the depth) to argv[2] bytes, then a file at the bottom is written, read, stat'ed, listed and renamed (two paths
 * that long in one request), and everything is removed; prints the results.
 */
const DEEPER = PRELUDE + String.raw`
os.mkdir(root, 0o755)
os.chdir(root)
names = [f"{i:03d}" + "d" * 252 for i in range(-(-total // 256))]
for n in names:
    os.mkdir(n, 0o755)
    os.chdir(n)
log.append(f"depth {len(names)}")
with open("f", "w") as out:
    out.write("deeper")
r("read", lambda: open("f").read())
r("stat", lambda: (os.stat("f").st_size, stat.S_ISREG(os.stat("f").st_mode)))
r("list", lambda: os.listdir("."))
r("rename", lambda: os.rename("f", "g"))
r("list again", lambda: os.listdir("."))
r("mkdir 256", lambda: os.mkdir("n" * 256))
r("unlink", lambda: os.unlink("g"))
for n in reversed(names):
    os.chdir("..")
    os.rmdir(n)
r("empty", lambda: os.listdir("."))
print("\n".join(log))
`;

/** Runs a python3 program with `args`; returns its stdout (throws with its stderr when it fails). */
function python(program: string, ...args: string[]): string {
  const result = Bun.spawnSync(["python3", "-c", program, ...args], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`python3 failed: ${result.stderr.toString().slice(-2000)}`);
  return result.stdout.toString();
}

function tenant(name: string, cpu: number, backend: string, mounts: string[]): string {
  return [`name = "${name}"`, `cpus = [${cpu}]`, `memory = "384MiB"`, `shareCpus = true`, `[backend]`, backend, ...mounts].join("\n");
}

beforeAll(async () => {
  if (!run) return;
  mkdirSync(HOST);
  const alpha = tenant("alpha", 0, `kind = "local"\nroot = "backends/alpha"`, [
    `[[mounts]]\npath = "${MOUNTS.local}"\nsource = "data"\nlegacy = true`,
    `[[mounts]]\npath = "${MOUNTS.union}"\nupper = "containers/c0/upper"\nlegacy = true`,
  ]);
  const tenants: Record<string, string> = { alpha };
  if (conf) tenants.beta = tenant("beta", LAST_CPU, `kind = "cephfs"\nconf = "${conf}"\nroot = "${cephRoot}"`, [`[[mounts]]\npath = "${MOUNTS.cephfs}"\nsource = "data"\nlegacy = true`]);
  h = new Harness({ tenants });
  await h.start(Object.keys(tenants));
  for (const mount of Object.values(MOUNTS)) await waitFor(`the FUSE mount ${mount}`, () => isMountPoint(mount), 30_000);
}, 120_000);

afterAll(async () => {
  try {
    await h?.stop();
  } finally {
    for (const mount of Object.values(MOUNTS)) if (isMountPoint(mount)) Bun.spawnSync(["umount", "-l", mount]);
    rmSync(base, { recursive: true, force: true });
    if (conf && h !== undefined) removeCephTree(conf, cephRoot);
  }
}, 120_000);

for (const bytes of [6_000, 12_000]) {
  for (const kind of ["local", "union", "cephfs"]) {
    test.skipIf(!run || MOUNTS[kind] === undefined)(`${kind}: a ${bytes}-byte chain made one level at a time behaves as on a host directory`, () => {
      const expected = python(SCENARIO, join(HOST, `c${bytes}`), String(bytes));
      expect(expected).toContain("read after rename: deep\n");
      expect(expected).toContain("name 256: ENAMETOOLONG\n");
      expect(python(SCENARIO, join(MOUNTS[kind]!, `c${bytes}`), String(bytes))).toBe(expected);
    });
  }
}

// A union looks up every name of a path on each call, so its cost grows with the square of the depth: it runs the
// deeper chain too, but only once (the direct mounts' figures are per call, not per name).
for (const kind of ["local", "cephfs", "union"]) {
  test.skipIf(!run || MOUNTS[kind] === undefined)(`${kind}: past DANAUS_PATH_MAX bytes (more than a request window carries) the chain goes on as on a host directory`, () => {
    const bytes = DANAUS_PATH_MAX + 1_024;
    const expected = python(DEEPER, join(HOST, `deeper-${kind}`), String(bytes));
    expect(expected).toContain("read: deeper\n");
    expect(expected).toContain("mkdir 256: ENAMETOOLONG\n");
    const started = performance.now();
    expect(python(DEEPER, join(MOUNTS[kind]!, "deeper"), String(bytes))).toBe(expected);
    process.stderr.write(`deep-paths: ${kind}, a ${bytes}-byte chain: ${Math.round(performance.now() - started)} ms\n`);
  });
}
