/**
 * @module structs — the C structures libcephfs fills in, as layouts under their C names (x86-64, glibc with
 * _FILE_OFFSET_BITS=64 as libcephfs.h requires): `struct ceph_statx`, `struct dirent` and `struct statvfs`.
 */
import { defineStruct } from "../../../../kernel/ipc/protocol/index.ts";

/** `struct ceph_statx` of ceph_ll_client.h (136 bytes). Times are `struct timespec` split into sec and nsec. */
export const CEPH_STATX = defineStruct("ceph_statx", "attributes returned by ceph_ll_getattr / ceph_ll_lookup", [
  { name: "stx_mask", type: "u32", offset: 0, doc: "CEPH_STATX_* bits that are valid" },
  { name: "stx_blksize", type: "u32", offset: 4 },
  { name: "stx_nlink", type: "u32", offset: 8 },
  { name: "stx_uid", type: "u32", offset: 12 },
  { name: "stx_gid", type: "u32", offset: 16 },
  { name: "stx_mode", type: "u16", offset: 20, doc: "type bits are always valid, permission bits with CEPH_STATX_MODE" },
  { name: "__pad0", type: "u16", offset: 22 },
  { name: "stx_ino", type: "u64", offset: 24 },
  { name: "stx_size", type: "u64", offset: 32 },
  { name: "stx_blocks", type: "u64", offset: 40 },
  { name: "stx_dev", type: "u64", offset: 48, doc: "the snapshot id, CEPH_NOSNAP for live files" },
  { name: "stx_rdev", type: "u64", offset: 56 },
  { name: "stx_atime_sec", type: "i64", offset: 64 },
  { name: "stx_atime_nsec", type: "i64", offset: 72 },
  { name: "stx_ctime_sec", type: "i64", offset: 80 },
  { name: "stx_ctime_nsec", type: "i64", offset: 88 },
  { name: "stx_mtime_sec", type: "i64", offset: 96 },
  { name: "stx_mtime_nsec", type: "i64", offset: 104 },
  { name: "stx_btime_sec", type: "i64", offset: 112 },
  { name: "stx_btime_nsec", type: "i64", offset: 120 },
  { name: "stx_version", type: "u64", offset: 128 },
]);

/** `want` bits of ceph_ll_getattr / ceph_ll_lookup (CEPH_STATX_*). */
export const CEPH_STATX_MASK = {
  MODE: 0x1,
  NLINK: 0x2,
  UID: 0x4,
  GID: 0x8,
  RDEV: 0x10,
  ATIME: 0x20,
  MTIME: 0x40,
  CTIME: 0x80,
  INO: 0x100,
  SIZE: 0x200,
  BLOCKS: 0x400,
  BASIC_STATS: 0x7ff,
} as const;

/** `mask` bits of ceph_ll_setattr (CEPH_SETATTR_*). */
export const CEPH_SETATTR = {
  MODE: 1 << 0,
  UID: 1 << 1,
  GID: 1 << 2,
  MTIME: 1 << 3,
  ATIME: 1 << 4,
  SIZE: 1 << 5,
  CTIME: 1 << 6,
  MTIME_NOW: 1 << 7,
  ATIME_NOW: 1 << 8,
} as const;

/**
 * glibc's `struct dirent` (280 bytes); ceph_getdents packs whole records of this size. `d_off` is the directory
 * offset after the entry (the value ceph_telldir returns once the entry is consumed).
 */
export const DIRENT64 = defineStruct("dirent", "one record of ceph_getdents", [
  { name: "d_ino", type: "u64", offset: 0 },
  { name: "d_off", type: "i64", offset: 8 },
  { name: "d_reclen", type: "u16", offset: 16 },
  { name: "d_type", type: "u8", offset: 18 },
  { name: "d_name", type: "u8", offset: 19, count: 256 },
]);

/** glibc's x86-64 `struct statvfs` (112 bytes), filled by ceph_ll_statfs. */
export const STATVFS = defineStruct("statvfs", "filesystem statistics of ceph_ll_statfs", [
  { name: "f_bsize", type: "u64", offset: 0 },
  { name: "f_frsize", type: "u64", offset: 8 },
  { name: "f_blocks", type: "u64", offset: 16 },
  { name: "f_bfree", type: "u64", offset: 24 },
  { name: "f_bavail", type: "u64", offset: 32 },
  { name: "f_files", type: "u64", offset: 40 },
  { name: "f_ffree", type: "u64", offset: 48 },
  { name: "f_favail", type: "u64", offset: 56 },
  { name: "f_fsid", type: "u64", offset: 64 },
  { name: "f_flag", type: "u64", offset: 72 },
  { name: "f_namemax", type: "u64", offset: 80 },
  { name: "__f_spare", type: "i32", offset: 88, count: 6 },
]);
