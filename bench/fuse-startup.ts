/**
 * @module fuse-startup — the paper's start-up experiment, part of `bun run bench fuse`: the time to start N = 1, 4, 16
 * lighttpd servers (the Debian package, in a root tree built from this host by scripts/rootfs) whose roots are
 * unions over one shared image, until every one answers an HTTP GET on its own 127.0.0.1 port. danaus: the image
 * imported onto the tenant's CephFS backend, N union mounts with `legacy = true` (fuse-legacy → tenant service →
 * libcephfs). The peer: the same tree copied into CephFS, N unionfs-fuse `-o cow` mounts, each with its own upper,
 * over one ceph-fuse mount. Every run is cold: fresh mounts (a new supervisor; a new ceph-fuse and unionfs daemons),
 * then the kernel's caches dropped. File system services run on core 0, lighttpd and the driver on core 1.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { isMountPoint } from "../kernel/sys/mounts.ts";
import { buildRootfs } from "../scripts/rootfs/index.ts";
import { dropPageCache, mountCephFuse } from "./ceph-fuse.ts";
import { BENCH_TENANT, cephTenantToml, legacyMountToml, PLACEMENTS, startDanausTenant, type Placement } from "./danaus-tenant.ts";
import { quantile } from "./stats.ts";
import { mountUnionfs, type UnionfsMount } from "./union-fuse.ts";

/** How many servers start together (DANAUS_BENCH_STARTUP_COUNTS, comma-separated, changes them). */
export const STARTUP_COUNTS = (process.env.DANAUS_BENCH_STARTUP_COUNTS ?? "1,4,16").split(",").map(Number);
/** Cold runs per system and count; the median is reported. */
export const STARTUP_RUNS = Number(process.env.DANAUS_BENCH_STARTUP_RUNS ?? 5);
/** The core lighttpd (the containers) and the driver run on; the file system services get {@link SERVICE_CPUS}. */
const CONTAINER_CPU = Math.max(0, navigator.hardwareConcurrency - 1);
const SERVICE_CPUS = [0];
/** lighttpd i listens on 127.0.0.1:(FIRST_PORT + i). */
const FIRST_PORT = 28_080;
const IMAGE = "lighttpd";
const CONF = "/etc/lighttpd/startup.conf";
const INDEX = "danaus start-up benchmark\n";
/** DANAUS_BENCH_STARTUP_DIRECT_IO=false runs danaus with the kernel's page cache on its FUSE mounts (`[fuse] directIo = false`). */
const FUSE_TABLE = process.env.DANAUS_BENCH_STARTUP_DIRECT_IO === "false" ? ["[fuse]\ndirectIo = false"] : [];
/** How long N servers may take before the run fails. */
const READY_TIMEOUT_MS = 120_000;

/** Thrown when a server exits or does not answer in time; carries its stderr. */
export class StartupError extends Error {
  override readonly name = "StartupError";
  constructor(readonly root: string, readonly port: number, readonly reason: string) {
    super(`lighttpd in ${root} on port ${port}: ${reason}`);
  }
}

/** N container roots of one system, mounted and cold. */
interface Roots {
  readonly paths: readonly string[];
  close(): Promise<void>;
}

/** One system under test. */
interface StartupSystem {
  readonly name: string;
  /** Mounts `n` fresh roots for run `tag` (their uppers are new). */
  mount(n: number, tag: string): Promise<Roots>;
}

/** What one system measured for one N: milliseconds of each cold run, and their median. */
export interface StartupRow {
  system: string;
  n: number;
  runsMs: number[];
  medianMs: number;
}

/** The lighttpd config every container uses: its port from $PORT, one static page, nothing else. */
const LIGHTTPD_CONF = `server.document-root = "/var/www/html"
server.bind = "127.0.0.1"
server.port = env.PORT
server.modules = ("mod_indexfile")
index-file.names = ("index.html")
mimetype.assign = (".html" => "text/html")
`;

/** Builds the image tree: the rootfs with the lighttpd package, its start-up config and a page to serve. */
function buildImage(dir: string): void {
  buildRootfs(dir, { packages: ["lighttpd"] });
  writeFileSync(join(dir, CONF.slice(1)), LIGHTTPD_CONF);
  mkdirSync(join(dir, "var/www/html"), { recursive: true });
  writeFileSync(join(dir, "var/www/html/index.html"), INDEX);
}

function danausSystem(conf: string, root: string, tree: string, placement: Placement, name: string): StartupSystem {
  let imported = false;
  return {
    name,
    async mount(n, tag) {
      const base = mkdtempSync(join(tmpdir(), "danaus-bench-startup-"));
      const paths = Array.from({ length: n }, (_, i) => join(base, `c${i}`));
      const mounts = paths.map((path, i) => legacyMountToml(path, `upper = "containers/${tag}-${i}/upper"\nlowers = ["images/${IMAGE}/layer0"]`));
      const toml = cephTenantToml(conf, root, SERVICE_CPUS, "2GiB", [...mounts, ...FUSE_TABLE], placement);
      const tenant = await startDanausTenant(toml, paths, [base], async (h) => {
        if (imported) return;
        const r = await h.cli("image", "import", BENCH_TENANT, IMAGE, tree);
        if (r.code !== 0) throw new Error(`danaus image import ${IMAGE}: ${r.stderr.trim()}`);
        imported = true;
      });
      return { paths, close: () => tenant.close() };
    },
  };
}

function unionfsSystem(conf: string, cephDir: string): StartupSystem {
  return {
    name: "unionfs-fuse/ceph-fuse",
    async mount(n, tag) {
      const ceph = await mountCephFuse(conf, [], SERVICE_CPUS);
      const unions: UnionfsMount[] = [];
      const close = async () => {
        for (const u of unions) await u.unmount();
        ceph.unmount();
      };
      try {
        for (let i = 0; i < n; i++) {
          const upper = join(ceph.path, cephDir, "ff", `${tag}-${i}`);
          mkdirSync(upper, { recursive: true });
          unions.push(await mountUnionfs(upper, join(ceph.path, cephDir, "lower"), SERVICE_CPUS));
        }
      } catch (error) {
        await close();
        throw error;
      }
      return { paths: unions.map((u) => u.path), close };
    },
  };
}

/** Whether the server on `port` answers the page. */
async function answers(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
    return response.status === 200 && (await response.text()) === INDEX;
  } catch {
    return false;
  }
}

async function stopServer(proc: Subprocess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
  await proc.exited;
  clearTimeout(timer);
}

/**
 * Starts one lighttpd per root (chroot, -D, pinned to the container core) and returns the milliseconds until every
 * one answered; stops them all (by pid) before returning. Throws StartupError when one exits or is late.
 */
async function timeStart(roots: readonly string[]): Promise<number> {
  const devs: string[] = [];
  const servers: Subprocess<"ignore", "ignore", "pipe">[] = [];
  try {
    // A container has a /dev (lighttpd opens /dev/null); the bind mounts are made before the clock starts.
    for (const root of roots) {
      const dev = join(root, "dev");
      if (Bun.spawnSync(["mount", "--bind", "/dev", dev], { stderr: "pipe" }).exitCode !== 0) throw new StartupError(root, 0, `cannot bind /dev onto ${dev}`);
      devs.push(dev);
    }
    dropPageCache();
    // The host's own tools (taskset, chroot, the host's libc) are warm on a container host; the containers' files are not.
    Bun.spawnSync(["taskset", "-c", String(CONTAINER_CPU), "chroot", "/", "true"]);
    const started = performance.now();
    for (const [i, root] of roots.entries()) {
      servers.push(Bun.spawn(["taskset", "-c", String(CONTAINER_CPU), "chroot", root, "/usr/sbin/lighttpd", "-D", "-f", CONF], {
        stdio: ["ignore", "ignore", "pipe"],
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", PORT: String(FIRST_PORT + i) },
      }));
    }
    await Promise.all(servers.map(async (server, i) => {
      const port = FIRST_PORT + i;
      const deadline = started + READY_TIMEOUT_MS;
      while (!(await answers(port))) {
        if (server.exitCode !== null || server.signalCode !== null) {
          throw new StartupError(roots[i]!, port, `exited ${server.exitCode ?? server.signalCode}: ${(await new Response(server.stderr).text()).trim()}`);
        }
        if (performance.now() > deadline) throw new StartupError(roots[i]!, port, `no answer within ${READY_TIMEOUT_MS} ms`);
        await Bun.sleep(2);
      }
    }));
    return performance.now() - started;
  } finally {
    for (const server of servers) await stopServer(server);
    for (const dev of devs) if (isMountPoint(dev)) Bun.spawnSync(["umount", dev]);
  }
}

/**
 * Runs the start-up experiment: builds the lighttpd tree, copies it into `cephRoot/<dir>/lower` (the peer's lower,
 * through the admin ceph-fuse mount `adminPath`), and times {@link STARTUP_RUNS} cold starts of each N for both
 * systems. The danaus tenant's backend root is `/<dir>/danaus`. Returns one row per system and N.
 */
export async function runStartup(conf: string, adminPath: string, dir: string): Promise<StartupRow[]> {
  const tree = mkdtempSync(join(tmpdir(), "danaus-bench-rootfs-"));
  const say = (what: string) => process.stderr.write(`  start-up: ${what}\n`);
  try {
    rmSync(tree, { recursive: true });
    buildImage(tree);
    say(`image tree built in ${tree}; copying it into CephFS for the peer`);
    mkdirSync(join(adminPath, dir), { recursive: true });
    const copy = Bun.spawnSync(["cp", "-a", tree, join(adminPath, dir, "lower")], { stderr: "pipe" });
    if (copy.exitCode !== 0) throw new Error(`cp -a ${tree} into CephFS: ${copy.stderr.toString().trim()}`);
    for (const sub of ["danaus-own", "danaus-inproc"]) mkdirSync(join(adminPath, dir, sub), { recursive: true });
    const rows: StartupRow[] = [];
    const danaus = PLACEMENTS.map(({ placement, name }) => danausSystem(conf, `/${dir}/danaus-${placement === "in-process" ? "inproc" : "own"}`, tree, placement, name));
    for (const system of [...danaus, unionfsSystem(conf, dir)]) {
      for (const n of STARTUP_COUNTS) {
        const runsMs: number[] = [];
        for (let run = 0; run < STARTUP_RUNS; run++) {
          const roots = await system.mount(n, `n${n}-r${run}`);
          try {
            runsMs.push(Math.round(await timeStart(roots.paths)));
          } finally {
            await roots.close();
          }
          say(`${system.name}: ${n} server(s), run ${run + 1}: ${runsMs.at(-1)} ms`);
        }
        rows.push({ system: system.name, n, runsMs, medianMs: quantile(runsMs, 0.5) });
      }
    }
    return rows;
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}
