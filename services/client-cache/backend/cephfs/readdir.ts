/**
 * @module readdir — one batch of an open CephFS directory through ceph_getdents, with cookies made from the
 * libcephfs directory offsets.
 *
 * A libcephfs directory offset (`dir_result_t` in Client.h) is, in hash order (every directory of a current MDS),
 * `0xff << 52 | (24-bit name hash) << 28 | (index among equal hashes)`, and in frag order
 * `(frag) << 28 | (index in frag)`; bit 60 marks the end. That does not fit a double, but its information does: the
 * cookie keeps the low 52 bits and replaces the 0xff marker by bit 52, so every offset an entry can carry maps to a
 * distinct safe integer and back. Offsets 0, 1, 2 ("." and "..") are their own cookies.
 */
import { ERRNO, FsError, type Dirent } from "../../../../kernel/ipc/protocol/index.ts";
import type { Address, CephFsCalls } from "./libcephfs.ts";
import { DIRENT64 } from "./structs.ts";

const LOW_BITS = 2n ** 52n - 1n;
const HASH_MARK = 0xffn << 52n;
const MARKER_BITS = 0xffn << 52n;
const TWO_52 = 2 ** 52;

/**
 * The cookie of a libcephfs directory offset; throws FsError EOVERFLOW for an offset no entry carries (end marker,
 * unknown high bits).
 */
export function offsetToCookie(offset: bigint): number {
  if (offset >= 0n && offset <= LOW_BITS) return Number(offset);
  if (offset >= 0n && offset >> 60n === 0n && (offset & MARKER_BITS) === HASH_MARK) return TWO_52 + Number(offset & LOW_BITS);
  throw new FsError(ERRNO.EOVERFLOW, "readdir");
}

/** The libcephfs directory offset of a cookie made by {@link offsetToCookie}; FsError EINVAL for anything else. */
export function cookieToOffset(cookie: number): bigint {
  if (!Number.isSafeInteger(cookie) || cookie < 0) throw new FsError(ERRNO.EINVAL, "readdir");
  if (cookie < TWO_52) return BigInt(cookie);
  return HASH_MARK | BigInt(cookie - TWO_52);
}

/** ceph_getdents fills at most this much per call (234 whole `struct dirent` records). */
const BATCH_BYTES = 64 * 1024;
/** The least a batch asks for (a few whole records). */
const MIN_BATCH_BYTES = 4096;
const scratch = Buffer.alloc(BATCH_BYTES);
const view = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);
const RECORD = DIRENT64.size;
const NAME_OFFSET = DIRENT64.offsets.d_name;
const NAME_END = NAME_OFFSET + 256;

/**
 * The entries of the open directory `dirp` after `cookie` (0 = from the start) that one ceph_getdents call of about
 * `maxBytes` (4–64 KiB) returns,
 * without "." and ".."; empty at the end. Each entry's `next` is the cookie of the offset after it. The directory is
 * re-positioned only when its current offset differs from the cookie's, so sequential listing never seeks. The
 * caller must hold the handle's cursor lock. Throws FsError: EINVAL (bad cookie), ENOENT (directory removed), EIO.
 */
export function readDirectoryBatch(lib: CephFsCalls, mount: Address, dirp: Address, cookie: number, maxBytes = BATCH_BYTES): Dirent[] {
  const bytes = Math.min(BATCH_BYTES, Math.max(MIN_BATCH_BYTES, Math.floor(maxBytes) || BATCH_BYTES));
  const offset = cookieToOffset(cookie);
  if (lib.ceph_telldir(mount, dirp) !== offset) lib.ceph_seekdir(mount, dirp, offset);
  for (;;) {
    const length = lib.ceph_getdents(mount, dirp, scratch, bytes);
    if (length < 0) throw new FsError(-length, "readdir");
    if (length === 0) return [];
    const entries = decode(length);
    // A batch of only "." and ".." is not the end; take the next one.
    if (entries.length > 0) return entries;
  }
}

/** Decodes `length` bytes of whole `struct dirent` records from the scratch buffer, skipping "." and "..". */
function decode(length: number): Dirent[] {
  const entries: Dirent[] = [];
  for (let at = 0; at + RECORD <= length; at += RECORD) {
    const nameStart = at + NAME_OFFSET;
    let nameEnd = scratch.indexOf(0, nameStart);
    if (nameEnd < 0 || nameEnd > at + NAME_END) nameEnd = at + NAME_END;
    const dot = scratch[nameStart] === 0x2e;
    const nameLength = nameEnd - nameStart;
    if (dot && (nameLength === 1 || (nameLength === 2 && scratch[nameStart + 1] === 0x2e))) continue;
    entries.push({
      ino: Number(view.getBigUint64(at + DIRENT64.offsets.d_ino, true)),
      next: offsetToCookie(view.getBigInt64(at + DIRENT64.offsets.d_off, true)),
      type: scratch[at + DIRENT64.offsets.d_type]!,
      name: scratch.toString("latin1", nameStart, nameEnd), // a byte string (names.ts)
    });
  }
  return entries;
}
