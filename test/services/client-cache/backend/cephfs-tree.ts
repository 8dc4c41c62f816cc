/** @module test/services/client-cache/backend/cephfs-tree — test helpers walking a FileSystem: recursive removal and snapshots. */
import { listDirectory, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, readFile } from "../../../conformance/harness.ts";

export { listDirectory };
import type { Dirent, FileSystem } from "../../../../kernel/ipc/protocol/index.ts";
import { CephBackend, CephMount } from "../../../../services/client-cache/backend/index.ts";

/** Removes `path` and everything below it (like `rm -rf`); a missing path is fine. */
export function removeTree(fs: FileSystem, path: string): void {
  let mode: number;
  try {
    mode = fs.lstat(path).st_mode;
  } catch {
    return;
  }
  if ((mode & S_IFMT) !== S_IFDIR) {
    fs.unlink(path);
    return;
  }
  for (const entry of listDirectory(fs, path)) removeTree(fs, `${path}/${entry.name}`);
  fs.rmdir(path);
}

/** Removes `path` and everything below it in the cluster `conf` names, as client admin: a test's cleanup. */
export function removeCephTree(conf: string, path: string): void {
  const admin = CephMount.open({ conf, clientId: "admin" });
  try {
    removeTree(new CephBackend(admin.shared, ""), path);
  } finally {
    admin.close();
  }
}

/**
 * Everything observable below `path` except the subtree `skip`: names, types, modes, owners, link counts, sizes,
 * times, file contents and symlink targets, one line per object, sorted. A directory's size is left out: CephFS
 * reports the recursive byte count there, which the MDS updates lazily.
 */
export function snapshotTree(fs: FileSystem, path: string, skip: string): string {
  const lines: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of listDirectory(fs, dir).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const child = `${dir}/${entry.name}`;
      if (child === skip) continue;
      const st = fs.lstat(child);
      const type = st.st_mode & S_IFMT;
      const content = type === S_IFREG ? readFile(fs, child) : type === S_IFLNK ? fs.readlink(child) : "";
      const size = type === S_IFDIR ? "-" : st.st_size;
      lines.push(`${child} ${st.st_mode} ${st.st_uid}:${st.st_gid} ${st.st_nlink} ${size} ${st.st_mtime_sec}.${st.st_mtime_nsec} ${st.st_ctime_sec}.${st.st_ctime_nsec} ${content}`);
      if (type === S_IFDIR) walk(child);
    }
  };
  walk(path);
  return lines.join("\n");
}
