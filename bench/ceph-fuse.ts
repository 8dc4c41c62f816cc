/** @module ceph-fuse — mounting the peer: ceph-fuse on the project's cluster, at a temp directory, and unmounting it. */
import { isMountPoint } from "../kernel/sys/mounts.ts";
import { QUIET_CLIENT_LOG } from "../services/client-cache/backend/cephfs/index.ts";
import { mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A ceph-fuse mount of the cluster's root. */
export interface CephFuseMount {
  readonly path: string;
  unmount(): void;
}

/**
 * Mounts the whole file system with ceph-fuse and the extra `--option=value` arguments; waits until it is mounted.
 * With `cpus`, every thread of the ceph-fuse daemon is confined to them (taskset), like a tenant service in its pool.
 * It logs as the tenant services' client does ({@link QUIET_CLIENT_LOG}), so the peers compare like for like.
 */
export async function mountCephFuse(conf: string, extra: string[] = [], cpus?: number[]): Promise<CephFuseMount> {
  const path = mkdtempSync(join(tmpdir(), "danaus-ceph-fuse-"));
  const pin = cpus ? ["taskset", "-c", cpus.join(",")] : [];
  const quiet = Object.entries(QUIET_CLIENT_LOG).map(([name, value]) => `--${name}=${value}`);
  const r = Bun.spawnSync([...pin, "ceph-fuse", "-c", conf, ...quiet, ...extra, path], { stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  if (r.exitCode !== 0) throw new Error(`ceph-fuse ${extra.join(" ")} ${path} exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
  for (let i = 0; i < 200 && !isMountPoint(path); i++) await Bun.sleep(25);
  if (!isMountPoint(path)) throw new Error(`ceph-fuse did not mount ${path} within 5 s`);
  return {
    path,
    unmount() {
      if (isMountPoint(path)) {
        const u = Bun.spawnSync(["umount", path], { stderr: "pipe" });
        if (u.exitCode !== 0) Bun.spawnSync(["umount", "-l", path]);
      }
      rmdirSync(path);
    },
  };
}

/** Drops the kernel's page cache (root only; a no-op otherwise), so a FUSE mount's next read is cold in the kernel. */
export function dropPageCache(): void {
  try {
    Bun.spawnSync(["sh", "-c", "sync; echo 3 > /proc/sys/vm/drop_caches"]);
  } catch {
    // Not root: the cold numbers then include whatever the kernel kept.
  }
}
