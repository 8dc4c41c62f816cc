/**
 * @module preload-floor — the floor of `bun run bench preload`'s metadata jobs: the loops of fio's filecreate,
 * filestat and filedelete engines (open(O_CREAT|O_RDWR, 0600) + close, stat, unlink of the same files), done in one
 * process on the project's cephfs backend with no IPC at all, so the table shows what any libcephfs client of this
 * cluster can do against what the preload library does. Run as a script (by {@link runFloor}) it mounts the tenant's
 * root as a libcephfs client of its own, makes its directory itself (as the bench makes the preload targets'
 * directories through the tenant's service, so both clients hold the directory's capabilities), runs the three loops
 * and prints their rates as one JSON line. `stack` picks what the loops call: the CephBackend alone, or the tenant's
 * client cache over it (a CachedFileSystem, as a service thread calls it).
 */
import { constants } from "node:fs";
import { join } from "node:path";
import { CachedFileSystem, SharedCache } from "../services/client-cache/cache/index.ts";
import { CephBackend, CephMount } from "../services/client-cache/backend/index.ts";
import { DEFAULT_CEPH_OPTIONS } from "../services/client-cache/index.ts";
import type { FileSystem } from "../kernel/ipc/protocol/index.ts";

const { O_CREAT, O_RDWR } = constants;

/** What the floor's loops call. */
export type FloorStack = "backend" | "cache";

/** ops/s of the three loops, named as the fio jobs they stand for. */
export interface FloorFigures {
  readonly "create 4k": number;
  readonly stat: number;
  readonly unlink: number;
}

/** The cache settings of a tenant with the default `[cache]` table and 1 GiB of memory (see the README's config reference). */
const CACHE = { sizeBytes: 512 << 20, maxDirtyBytes: 256 << 20, blockSizeBytes: 64 << 10, writebackMs: 1000, expireMs: 5000, writeback: "async" } as const;

/**
 * Runs the floor once in a process of its own pinned to `cpu` (as the tenant's service is pinned to its pool): `files`
 * files in a new directory `dir` under `root` of the cluster named by `conf`. Throws with the driver's stderr if it fails.
 */
export function runFloor(conf: string, root: string, dir: string, files: number, stack: FloorStack, cpu: number): FloorFigures {
  const argv = ["taskset", "-c", String(cpu), process.execPath, import.meta.path, conf, root, dir, String(files), stack];
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", timeout: 180_000 });
  if (r.exitCode !== 0) throw new Error(`the ${stack} floor in ${root}/${dir} exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
  return JSON.parse(r.stdout.toString()) as FloorFigures;
}

/** ops/s of `count` calls of `call`. */
function timed(count: number, call: (i: number) => void): number {
  const started = performance.now();
  for (let i = 0; i < count; i++) call(i);
  return Math.round(count / ((performance.now() - started) / 1000));
}

/** The three loops over `files` names in `dir` (made first, removed after). */
function loops(fs: FileSystem, dir: string, files: number): FloorFigures {
  fs.mkdir(dir, 0o755);
  // fio's names: <job name>.<job number>.<file number>.
  const name = (i: number) => join(dir, `meta.0.${i}`);
  const figures = {
    "create 4k": timed(files, (i) => fs.close(fs.open(name(i), O_CREAT | O_RDWR, 0o600))),
    stat: timed(files, (i) => void fs.stat(name(i))),
    unlink: timed(files, (i) => fs.unlink(name(i))),
  };
  fs.rmdir(dir);
  return figures;
}

if (import.meta.main) {
  const [conf, root, dir, files, stack] = process.argv.slice(2);
  if (!conf || !root || !dir || !files || (stack !== "backend" && stack !== "cache")) {
    process.stderr.write("usage: bun bench/preload-floor.ts <ceph.conf> <root> <dir> <files> backend|cache\n");
    process.exit(2);
  }
  const mount = CephMount.open({ conf, clientId: "admin", root, options: DEFAULT_CEPH_OPTIONS });
  try {
    const backend = new CephBackend(mount.shared, "");
    const fs = stack === "backend" ? backend : new CachedFileSystem(backend, SharedCache.attach(SharedCache.create(CACHE)), 0);
    process.stdout.write(JSON.stringify(loops(fs, dir, Number(files))) + "\n");
    backend.dispose();
  } finally {
    mount.close();
  }
}
