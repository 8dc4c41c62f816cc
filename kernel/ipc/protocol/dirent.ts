/** @module dirent — the readdir reply payload: packed `danaus_dirent` records, the same bytes as Linux `linux_dirent64`. */
import { defineStruct } from "./struct.ts";
import { ERRNO } from "./errno.ts";
import { bytesToName } from "./names.ts";

/**
 * Fixed part of one directory entry record; the NUL-terminated name follows at offset 19 and the
 * record is padded to a multiple of 8 bytes (`d_reclen`), exactly like getdents64(2).
 */
export const DIRENT = defineStruct("danaus_dirent", "one readdir record; same bytes as linux_dirent64", [
  { name: "d_ino", type: "u64", offset: 0 },
  { name: "d_off", type: "i64", offset: 8, doc: "cookie to pass to the next readdir to continue after this entry" },
  { name: "d_reclen", type: "u16", offset: 16, doc: "whole record length, multiple of 8" },
  { name: "d_type", type: "u8", offset: 18, doc: "DT_* value" },
], { flexible: { name: "d_name", type: "u8" } });

/** Offset of the name inside a record. */
export const DIRENT_NAME_OFFSET = 19;

/** `d_type` values (Linux `DT_*`). */
export const DT = { UNKNOWN: 0, FIFO: 1, CHR: 2, DIR: 4, BLK: 6, REG: 8, LNK: 10, SOCK: 12 } as const;

/** One decoded directory entry. */
export interface Dirent {
  readonly ino: number;
  /** Cookie that continues the listing after this entry. */
  readonly next: number;
  readonly type: number;
  readonly name: string;
}

/** Length of the record holding a name of `nameBytes` bytes. */
export function direntRecordLength(nameBytes: number): number {
  return (DIRENT_NAME_OFFSET + nameBytes + 1 + 7) & ~7;
}

/**
 * Pack as many of `entries` as fit into `bytes[offset, offset + capacity)`.
 * Returns how many entries and bytes were written; a caller that gets `count < entries.length` continues
 * with the next call from `entries[count - 1].next`.
 */
export function encodeDirents(
  entries: readonly Dirent[],
  bytes: Uint8Array,
  offset: number,
  capacity: number,
): { count: number; length: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = offset;
  let count = 0;
  for (const entry of entries) {
    // Names are byte strings (names.ts): one char per byte.
    const name = entry.name;
    const reclen = direntRecordLength(name.length);
    if (at + reclen > offset + capacity) break;
    bytes.fill(0, at, at + reclen);
    DIRENT.write(view, at, { d_ino: entry.ino, d_off: entry.next, d_reclen: reclen, d_type: entry.type });
    for (let i = 0, to = at + DIRENT_NAME_OFFSET; i < name.length; i++) bytes[to + i] = name.charCodeAt(i);
    at += reclen;
    count++;
  }
  return { count, length: at - offset };
}

/**
 * Unpack the records in `bytes[offset, offset + length)`.
 * Returns the entries, or EINVAL when a record is malformed (bad length, name without NUL, empty name).
 */
export function decodeDirents(bytes: Uint8Array, offset: number, length: number): Dirent[] | number {
  if (offset < 0 || length < 0 || offset + length > bytes.length) return ERRNO.EINVAL;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Dirent[] = [];
  let at = offset;
  const end = offset + length;
  while (at < end) {
    if (end - at < DIRENT_NAME_OFFSET + 2) return ERRNO.EINVAL;
    const record = DIRENT.read(view, at);
    const reclen = record.d_reclen;
    if (reclen % 8 !== 0 || reclen < DIRENT_NAME_OFFSET + 2 || at + reclen > end) return ERRNO.EINVAL;
    const name = bytes.subarray(at + DIRENT_NAME_OFFSET, at + reclen);
    const nul = name.indexOf(0);
    if (nul <= 0) return ERRNO.EINVAL;
    out.push({ ino: record.d_ino, next: record.d_off, type: record.d_type, name: bytesToName(name, 0, nul) });
    at += reclen;
  }
  return out;
}
