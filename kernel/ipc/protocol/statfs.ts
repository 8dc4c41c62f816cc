/** @module statfs — the `danaus_statfs` reply layout: Linux x86-64 `struct statfs`, byte for byte. */
import { defineStruct } from "./struct.ts";

/** Layout of the statfs reply payload (120 bytes, identical to x86-64 `struct statfs`). */
export const STATFS = defineStruct("danaus_statfs", "statfs reply; same bytes as x86-64 struct statfs", [
  { name: "f_type", type: "i64", offset: 0 },
  { name: "f_bsize", type: "i64", offset: 8 },
  { name: "f_blocks", type: "u64", offset: 16 },
  { name: "f_bfree", type: "u64", offset: 24 },
  { name: "f_bavail", type: "u64", offset: 32 },
  { name: "f_files", type: "u64", offset: 40 },
  { name: "f_ffree", type: "u64", offset: 48 },
  { name: "f_fsid", type: "i32", offset: 56, count: 2 },
  { name: "f_namelen", type: "i64", offset: 64 },
  { name: "f_frsize", type: "i64", offset: 72 },
  { name: "f_flags", type: "i64", offset: 80 },
  { name: "__spare", type: "i64", offset: 88, count: 4 },
]);

/** A decoded statfs reply. */
export type Statfs = ReturnType<typeof STATFS.read>;

/** Decode the statfs payload at `offset` of `view`. */
export function decodeStatfs(view: DataView, offset: number): Statfs {
  return STATFS.read(view, offset);
}

/** Encode `statfs` at `offset` of `view`; returns the bytes written ({@link STATFS}.size). */
export function encodeStatfs(view: DataView, offset: number, statfs: Partial<Statfs>): number {
  STATFS.write(view, offset, statfs);
  return STATFS.size;
}
