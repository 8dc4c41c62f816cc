/** @module stat — the `danaus_stat` reply layout: Linux x86-64 `struct stat`, byte for byte, so the C shim can copy it out. */
import { defineStruct } from "./struct.ts";

/** Layout of the stat reply payload (144 bytes, identical to x86-64 `struct stat`). */
export const STAT = defineStruct("danaus_stat", "stat/lstat/fstat reply; same bytes as x86-64 struct stat", [
  { name: "st_dev", type: "u64", offset: 0 },
  { name: "st_ino", type: "u64", offset: 8 },
  { name: "st_nlink", type: "u64", offset: 16 },
  { name: "st_mode", type: "u32", offset: 24 },
  { name: "st_uid", type: "u32", offset: 28 },
  { name: "st_gid", type: "u32", offset: 32 },
  { name: "__pad0", type: "u32", offset: 36 },
  { name: "st_rdev", type: "u64", offset: 40 },
  { name: "st_size", type: "i64", offset: 48 },
  { name: "st_blksize", type: "i64", offset: 56 },
  { name: "st_blocks", type: "i64", offset: 64, doc: "512-byte blocks" },
  { name: "st_atime_sec", type: "i64", offset: 72 },
  { name: "st_atime_nsec", type: "i64", offset: 80 },
  { name: "st_mtime_sec", type: "i64", offset: 88 },
  { name: "st_mtime_nsec", type: "i64", offset: 96 },
  { name: "st_ctime_sec", type: "i64", offset: 104 },
  { name: "st_ctime_nsec", type: "i64", offset: 112 },
  { name: "__reserved", type: "i64", offset: 120, count: 3 },
]);

/** A decoded stat reply. 64-bit fields are numbers, exact below 2^53. */
export type Stat = ReturnType<typeof STAT.read>;

/** Decode the stat payload at `offset` of `view` (which must hold {@link STAT}.size bytes there). */
export function decodeStat(view: DataView, offset: number): Stat {
  return STAT.read(view, offset);
}

/** Encode `stat` at `offset` of `view`; returns the bytes written ({@link STAT}.size). */
export function encodeStat(view: DataView, offset: number, stat: Partial<Stat>): number {
  STAT.write(view, offset, stat);
  return STAT.size;
}
