/**
 * @module daemons — starting the cluster's daemons (they daemonize and write pid files under the cluster's run dir)
 * and stopping exactly those processes by pid: a pid is only signalled after /proc shows it is still that daemon
 * of this cluster (its command line names the daemon binary and this cluster's conf).
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

/** A daemon of the cluster: its binary and id, e.g. ceph-osd 0. */
export interface Daemon {
  readonly type: "mon" | "mgr" | "osd" | "mds";
  readonly id: string;
}

/** Thrown when a command or daemon of the cluster fails. */
export class ClusterError extends Error {
  override readonly name = "ClusterError";
  constructor(message: string, readonly detail?: string) {
    super(detail ? `${message}\n${detail.trim().split("\n").slice(-15).join("\n")}` : message);
  }
}

/** The pid file a daemon writes (`pid file = <run>/$name.pid`). */
export function pidFile(run: string, d: Daemon): string {
  return join(run, `${d.type}.${d.id}.pid`);
}

/** Runs a command to completion with CEPH_CONF set; throws ClusterError on a non-zero exit or a timeout. */
export function run(conf: string, argv: string[], timeoutMs = 60_000): string {
  const result = Bun.spawnSync(argv, { env: { ...process.env, CEPH_CONF: conf }, timeout: timeoutMs, stdout: "pipe", stderr: "pipe" });
  const out = result.stdout.toString();
  if (result.exitCode !== 0) {
    const why = result.exitCode === null ? `timed out after ${timeoutMs} ms` : `exited ${result.exitCode}`;
    throw new ClusterError(`${argv.join(" ")} ${why}`, out + result.stderr.toString());
  }
  return out;
}

/** The state letter of `pid` in /proc (R, S, D, Z...), or null when there is no such process. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return null;
  }
}

/** The pid of `d` when it is alive and is this cluster's daemon, else null. A zombie counts as dead. */
export function livePid(run: string, conf: string, d: Daemon): number | null {
  const file = pidFile(run, d);
  if (!existsSync(file)) return null;
  const pid = Number.parseInt(readFileSync(file, "utf8"), 10);
  if (!Number.isInteger(pid) || pid <= 1) return null;
  const state = procState(pid);
  if (state === null || state === "Z" || state === "X") return null;
  let cmdline = "";
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return null;
  }
  return cmdline.includes(`ceph-${d.type}`) && cmdline.includes(conf) ? pid : null;
}

/** Starts `d` (it daemonizes) and waits for its pid file; returns the pid. */
export async function startDaemon(run: string, conf: string, d: Daemon): Promise<number> {
  rmSync(pidFile(run, d), { force: true });
  const result = Bun.spawnSync([`ceph-${d.type}`, "-i", d.id, "-c", conf], { stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  if (result.exitCode !== 0) throw new ClusterError(`ceph-${d.type} -i ${d.id} exited ${result.exitCode}`, result.stderr.toString());
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    const pid = livePid(run, conf, d);
    if (pid !== null) return pid;
    await Bun.sleep(20);
  }
  throw new ClusterError(`ceph-${d.type}.${d.id} wrote no pid file within 15 s; see its log under the cluster's log dir`);
}

/**
 * Stops `d` if it runs: SIGTERM, then SIGKILL after `graceMs` (0 = SIGKILL at once: ceph-mds 16.2 ignores SIGTERM for
 * minutes). Waits until the process is gone or a zombie. Returns whether it was running.
 */
export async function stopDaemon(run: string, conf: string, d: Daemon, graceMs: number): Promise<boolean> {
  const pid = livePid(run, conf, d);
  if (pid === null) {
    rmSync(pidFile(run, d), { force: true });
    return false;
  }
  process.kill(pid, graceMs === 0 ? "SIGKILL" : "SIGTERM");
  const killAt = Date.now() + graceMs;
  let killed = graceMs === 0;
  for (;;) {
    const state = procState(pid);
    if (state === null || state === "Z" || state === "X") break;
    if (!killed && Date.now() >= killAt) {
      process.kill(pid, "SIGKILL");
      killed = true;
    }
    await Bun.sleep(20);
  }
  rmSync(pidFile(run, d), { force: true });
  return true;
}
