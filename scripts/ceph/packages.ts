/** @module packages — the Debian packages the cluster and its peers need, and installing the missing ones (root only). */
import { existsSync } from "node:fs";

/** Package → a file it installs (present means installed). */
export const CEPH_PACKAGES: Readonly<Record<string, string>> = {
  "ceph-mon": "/usr/bin/ceph-mon",
  "ceph-osd": "/usr/bin/ceph-osd",
  "ceph-mds": "/usr/bin/ceph-mds",
  "ceph-mgr": "/usr/bin/ceph-mgr",
  "ceph-common": "/usr/bin/ceph",
  "ceph-fuse": "/usr/bin/ceph-fuse",
  libcephfs2: "/usr/lib/x86_64-linux-gnu/libcephfs.so.2",
  "libcephfs-dev": "/usr/include/cephfs/libcephfs.h",
};

/**
 * The peers the benchmarks compare against, the FUSE tools, the C compiler the preload library is built with, and the
 * unmodified programs the preload tests run (package → a file it installs).
 */
export const PEER_PACKAGES: Readonly<Record<string, string>> = {
  fuse3: "/usr/bin/fusermount3",
  fio: "/usr/bin/fio",
  "unionfs-fuse": "/usr/bin/unionfs",
  lighttpd: "/usr/sbin/lighttpd",
  gcc: "/usr/bin/gcc",
  python3: "/usr/bin/python3",
  sqlite3: "/usr/bin/sqlite3",
  "rocksdb-tools": "/usr/bin/db_bench",
  make: "/usr/bin/make",
  git: "/usr/bin/git",
};

/** Thrown when packages are missing and cannot be installed here. */
export class MissingPackagesError extends Error {
  override readonly name = "MissingPackagesError";
  constructor(readonly packages: string[], reason: string) {
    super(`missing Debian packages: ${packages.join(" ")} (${reason}); install them with: apt-get install -y ${packages.join(" ")}`);
  }
}

/** The packages of `wanted` whose marker file is absent. */
export function missingPackages(wanted: Readonly<Record<string, string>> = CEPH_PACKAGES): string[] {
  return Object.entries(wanted)
    .filter(([, marker]) => !existsSync(marker))
    .map(([name]) => name);
}

/** Installs the missing packages with apt-get when running as root; otherwise throws {@link MissingPackagesError}. */
export function ensurePackages(wanted: Readonly<Record<string, string>> = CEPH_PACKAGES): string[] {
  const missing = missingPackages(wanted);
  if (missing.length === 0) return [];
  if (process.getuid?.() !== 0) throw new MissingPackagesError(missing, "not root");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () => Bun.spawnSync(["apt-get", "install", "-y", "--no-install-recommends", ...missing], { env, stdout: "inherit", stderr: "inherit" });
  let result = install();
  if (result.exitCode !== 0) {
    Bun.spawnSync(["apt-get", "update"], { env, stdout: "inherit", stderr: "inherit" });
    result = install();
  }
  if (result.exitCode !== 0) throw new MissingPackagesError(missing, `apt-get exited ${result.exitCode}`);
  return missing;
}
