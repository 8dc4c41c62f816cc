/** @module tar-header — one 512-byte tar header block decoded: ustar fields, octal or GNU base-256 numbers, the checksum. */
import { bytesToName } from "../ipc/protocol/index.ts";

/** The size of a tar block; headers and data are padded to it. */
export const TAR_BLOCK = 512;

/** The fields of one header block, before GNU long names and PAX records are applied. */
export interface RawTarHeader {
  /** `prefix/name` for ustar, else `name`. */
  readonly path: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  /** The type flag character ("0", "5", "L", "x"...; "\0" for an old-style regular file). */
  readonly type: string;
  readonly linkname: string;
  readonly uname: string;
  readonly gname: string;
  readonly devmajor: number;
  readonly devminor: number;
}

/** Names in a tar header are bytes: decoded as a byte string (names.ts of the protocol), exact whatever the charset. */
const decoder = { decode: (bytes: Uint8Array) => bytesToName(bytes) };

/** True when the 512 bytes at `offset` are all zero (an end-of-archive block). */
export function isZeroBlock(bytes: Uint8Array, offset: number): boolean {
  for (let i = offset; i < offset + TAR_BLOCK; i++) if (bytes[i] !== 0) return false;
  return true;
}

function text(block: Uint8Array, at: number, length: number): string {
  const field = block.subarray(at, at + length);
  const end = field.indexOf(0);
  return decoder.decode(end < 0 ? field : field.subarray(0, end));
}

/**
 * A numeric field: octal ASCII (NUL- or space-terminated, possibly space-padded), or GNU base-256 when the first
 * byte has its high bit set. Returns null when it is neither.
 */
export function parseNumber(block: Uint8Array, at: number, length: number): number | null {
  const first = block[at]!;
  if (first & 0x80) {
    if (first === 0xff) return null; // negative base-256: not a valid size, id or time here
    let value = first & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + block[at + i]!;
    return Number.isSafeInteger(value) ? value : null;
  }
  const digits = text(block, at, length).trim();
  if (digits === "") return 0;
  return /^[0-7]+$/.test(digits) ? parseInt(digits, 8) : null;
}

/** The header checksum: the sum of the block's bytes with the checksum field counted as spaces. */
export function headerChecksum(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

/**
 * Decodes the header block `block` (512 bytes). Returns the header, or a string saying what is wrong (bad checksum,
 * a number field that is not a number) for the caller to turn into a TarError.
 */
export function decodeHeader(block: Uint8Array): RawTarHeader | string {
  const stored = parseNumber(block, 148, 8);
  const computed = headerChecksum(block);
  if (stored === null || stored !== computed) {
    return `bad header checksum (stored ${stored === null ? JSON.stringify(text(block, 148, 8)) : `0o${stored.toString(8)}`}, computed 0o${computed.toString(8)}): not a tar archive, or a corrupt one`;
  }
  const numbers = { mode: [100, 8], uid: [108, 8], gid: [116, 8], size: [124, 12], mtime: [136, 12], devmajor: [329, 8], devminor: [337, 8] } as const;
  const values: Record<string, number> = {};
  for (const [field, [at, length]] of Object.entries(numbers)) {
    const value = parseNumber(block, at, length);
    if (value === null) return `field ${field} is not an octal or base-256 number (${JSON.stringify(text(block, at, length))})`;
    values[field] = value;
  }
  const name = text(block, 0, 100);
  const ustar = text(block, 257, 6).startsWith("ustar");
  const prefix = ustar ? text(block, 345, 155) : "";
  return {
    path: prefix === "" ? name : `${prefix}/${name}`,
    mode: values.mode! & 0o7777,
    uid: values.uid!,
    gid: values.gid!,
    size: values.size!,
    mtime: values.mtime!,
    type: String.fromCharCode(block[156]!),
    linkname: text(block, 157, 100),
    uname: ustar ? text(block, 265, 32) : "",
    gname: ustar ? text(block, 297, 32) : "",
    devmajor: values.devmajor!,
    devminor: values.devminor!,
  };
}
