/**
 * @module union-fuse — the F/F peer of `bench union`: unionfs-fuse (`unionfs -o cow upper=RW:lower=RO`) over a
 * ceph-fuse mount, each daemon confined to the service cores with taskset; and the resident memory of processes.
 */
import { isMountPoint } from "../kernel/sys/mounts.ts";
import { mkdtempSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A unionfs-fuse mount; its daemon runs in the foreground so its pid is known. */
export interface UnionfsMount {
  readonly path: string;
  readonly pid: number;
  unmount(): Promise<void>;
}

/**
 * Mounts `unionfs -f -o cow <upper>=RW:<lower>=RO` at a new temp directory (host directories, typically on a
 * ceph-fuse mount), pinned to `cpus`. Waits until it is mounted; throws with unionfs's stderr when it does not mount.
 */
export async function mountUnionfs(upper: string, lower: string, cpus: readonly number[]): Promise<UnionfsMount> {
  const path = mkdtempSync(join(tmpdir(), "danaus-unionfs-"));
  const proc = Bun.spawn(["taskset", "-c", cpus.join(","), "unionfs", "-f", "-o", "cow", `${upper}=RW:${lower}=RO`, path], { stdio: ["ignore", "ignore", "pipe"] });
  for (let i = 0; i < 400 && !isMountPoint(path) && proc.exitCode === null; i++) await Bun.sleep(25);
  if (!isMountPoint(path)) {
    proc.kill("SIGKILL");
    const stderr = await new Response(proc.stderr).text();
    rmdirSync(path);
    throw new Error(`unionfs ${upper}=RW:${lower}=RO did not mount at ${path} (exit ${proc.exitCode}): ${stderr.trim()}`);
  }
  return {
    path,
    pid: proc.pid,
    async unmount() {
      if (isMountPoint(path) && Bun.spawnSync(["umount", path], { stderr: "pipe" }).exitCode !== 0) Bun.spawnSync(["umount", "-l", path]);
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await proc.exited;
      clearTimeout(timer);
      rmdirSync(path);
    },
  };
}

/** The resident set size of process `pid` in bytes (VmRSS), or 0 when it has gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The pids of the ceph-fuse daemons whose command line names `mountPath` (ceph-fuse forks into the background). */
export function cephFusePids(mountPath: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (argv[0]?.endsWith("ceph-fuse") && argv.includes(mountPath)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
