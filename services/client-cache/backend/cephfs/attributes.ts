/** @module attributes — `struct ceph_statx` and `struct statvfs` as the protocol's Stat and Statfs. */
import { readInt64, type Stat, type Statfs } from "../../../../kernel/ipc/protocol/index.ts";
import { CEPH_STATX, STATVFS } from "./structs.ts";

const X = CEPH_STATX.offsets;
const V = STATVFS.offsets;

/** The f_type statfs(2) reports for CephFS (CEPH_SUPER_MAGIC). */
export const CEPH_SUPER_MAGIC = 0x00c36400;

/**
 * The Stat of a filled `struct ceph_statx` in `view` (scratch memory of the calling thread). `st_dev` is the mount's
 * (`stx_dev` holds the snapshot id); 64-bit fields are exact below 2^53.
 */
export function statxToStat(view: DataView, dev: number): Stat {
  return {
    st_dev: dev,
    st_ino: readInt64(view, X.stx_ino, false),
    st_nlink: view.getUint32(X.stx_nlink, true),
    st_mode: view.getUint16(X.stx_mode, true),
    st_uid: view.getUint32(X.stx_uid, true),
    st_gid: view.getUint32(X.stx_gid, true),
    st_rdev: readInt64(view, X.stx_rdev, false),
    st_size: readInt64(view, X.stx_size, false),
    st_blksize: view.getUint32(X.stx_blksize, true),
    st_blocks: readInt64(view, X.stx_blocks, false),
    st_atime_sec: readInt64(view, X.stx_atime_sec, true),
    st_atime_nsec: readInt64(view, X.stx_atime_nsec, true),
    st_mtime_sec: readInt64(view, X.stx_mtime_sec, true),
    st_mtime_nsec: readInt64(view, X.stx_mtime_nsec, true),
    st_ctime_sec: readInt64(view, X.stx_ctime_sec, true),
    st_ctime_nsec: readInt64(view, X.stx_ctime_nsec, true),
  };
}

/** The Statfs of a filled `struct statvfs` in `view`. Block counts are in f_frsize units, as in statfs(2). */
export function statvfsToStatfs(view: DataView): Statfs {
  return {
    f_type: CEPH_SUPER_MAGIC,
    f_bsize: readInt64(view, V.f_bsize, false),
    f_blocks: readInt64(view, V.f_blocks, false),
    f_bfree: readInt64(view, V.f_bfree, false),
    f_bavail: readInt64(view, V.f_bavail, false),
    f_files: readInt64(view, V.f_files, false),
    f_ffree: readInt64(view, V.f_ffree, false),
    f_fsid: [view.getInt32(V.f_fsid, true), view.getInt32(V.f_fsid + 4, true)],
    f_namelen: readInt64(view, V.f_namemax, false),
    f_frsize: readInt64(view, V.f_frsize, false),
    f_flags: readInt64(view, V.f_flag, false),
  };
}
