/** @module readdir — one batch of a directory through getdents64(2), with cookies that survive 63-bit ext4 hash offsets. */
import { fileCalls } from "../../../kernel/sys/libc.ts";
import { DIRENT, DIRENT_NAME_OFFSET, ERRNO, FsError, type Dirent } from "../../../kernel/ipc/protocol/index.ts";
import { SEEK } from "../../../kernel/ipc/protocol/linux.ts";
import { check } from "./resolve.ts";

/** One getdents64 call fills at most this much; the kernel packs as many whole records as fit. */
const BATCH_BYTES = 64 * 1024;
/** The least a batch asks for: a record of a 255-byte name (280 bytes) always fits. */
const MIN_BATCH_BYTES = 4096;
const scratch = Buffer.alloc(BATCH_BYTES);
const view = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);

const TWO_32 = 4294967296;
/** High words below this keep a u64 under 2^53. */
const SAFE_HIGH = 0x200000;
const bits = new BigInt64Array(1);
const float = new Float64Array(bits.buffer);

/**
 * A kernel directory offset as a FileSystem cookie. ext4 hands out 63-bit hash offsets that a JS number cannot
 * hold; those are rounded DOWN to the nearest double, so seeking to the cookie never skips the entry it names
 * (it can only repeat an entry whose hash lies within ~1024 of it, which needs a 32-bit hash collision). Sequential
 * reading never seeks at all: see {@link readDirectoryBatch}.
 */
export function offsetToCookie(offset: number | bigint): number {
  if (typeof offset === "number") return offset;
  const rounded = Number(offset);
  if (BigInt(rounded) <= offset) return rounded;
  float[0] = rounded;
  bits[0] = bits[0]! - 1n;
  return float[0]!;
}

function readOffset(at: number): number {
  const high = view.getInt32(at + 4, true);
  const low = view.getUint32(at, true);
  if (high >= 0 && high < SAFE_HIGH) return high * TWO_32 + low;
  return offsetToCookie(view.getBigInt64(at, true));
}

/**
 * The entries of the open directory `fd` after `cookie` (0 = from the start) that one getdents64 call of about
 * `maxBytes` (4–64 KiB) returns,
 * without "." and ".."; empty at the end. Each entry's `next` is its d_off. When `cookie` is the directory's current
 * position (the `next` of the last entry of the previous batch) the fd is not re-seeked, so sequential listing is
 * exact whatever the offsets look like. Throws FsError: EBADF (closed or O_PATH handle), ENOTDIR (not a directory),
 * EINVAL (negative or fractional cookie), ENOENT (directory removed).
 */
export function readDirectoryBatch(fd: number, cookie: number, maxBytes = BATCH_BYTES): Dirent[] {
  const bytes = Math.min(BATCH_BYTES, Math.max(MIN_BATCH_BYTES, Math.floor(maxBytes) || BATCH_BYTES));
  if (!Number.isInteger(cookie) || cookie < 0) throw new FsError(ERRNO.EINVAL, "readdir");
  const position = fileCalls.lseek64(fd, 0, SEEK.CUR);
  check(position, "readdir");
  if (offsetToCookie(position) !== cookie) check(fileCalls.lseek64(fd, BigInt(cookie), SEEK.SET), "readdir");
  for (;;) {
    const length = check(fileCalls.getdents64(fd, scratch, bytes), "readdir");
    if (length === 0) return [];
    const entries = decode(length);
    // A batch of only "." and ".." is not the end; take the next one.
    if (entries.length > 0) return entries;
  }
}

/** Decodes `linux_dirent64` records (the protocol's DIRENT layout) from the scratch buffer, skipping "." and "..". */
function decode(length: number): Dirent[] {
  const entries: Dirent[] = [];
  for (let at = 0; at < length; ) {
    const reclen = view.getUint16(at + DIRENT.offsets.d_reclen, true);
    const nameStart = at + DIRENT_NAME_OFFSET;
    const nameEnd = scratch.indexOf(0, nameStart);
    const nameLength = nameEnd - nameStart;
    const dot = scratch[nameStart] === 0x2e;
    if (!(dot && (nameLength === 1 || (nameLength === 2 && scratch[nameStart + 1] === 0x2e)))) {
      entries.push({
        ino: view.getUint32(at + DIRENT.offsets.d_ino + 4, true) * TWO_32 + view.getUint32(at + DIRENT.offsets.d_ino, true),
        next: readOffset(at + DIRENT.offsets.d_off),
        type: scratch[at + DIRENT.offsets.d_type]!,
        name: scratch.toString("latin1", nameStart, nameEnd), // a byte string (names.ts)
      });
    }
    at += reclen;
  }
  return entries;
}
