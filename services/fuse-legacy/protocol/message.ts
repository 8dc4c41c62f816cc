/**
 * @module message — framing of FUSE messages: the request header and the NUL-terminated names after a request's
 * fixed struct, and the reply header (`fuse_out_header`) in front of a reply body.
 */
import { bytesToName } from "../../ipc-router/protocol/names.ts";
import { fuse_in_header, fuse_out_header } from "./structs.ts";

/** A decoded request header. */
export type FuseInHeader = ReturnType<typeof fuse_in_header.read>;

/** Size of `fuse_in_header`; a request body starts here. */
export const IN_HEADER_SIZE = fuse_in_header.size;
/** Size of `fuse_out_header`; a reply body starts here. */
export const OUT_HEADER_SIZE = fuse_out_header.size;

/** Decode the request header at the start of `view`. */
export function decodeInHeader(view: DataView): FuseInHeader {
  return fuse_in_header.read(view, 0);
}

/**
 * Encode a reply header for request `unique` at the start of `view`: `error` is 0 or a negative errno and
 * `bodyLength` the bytes of body following it. Returns the whole message length.
 */
export function encodeOutHeader(view: DataView, unique: number, error: number, bodyLength: number): number {
  const len = OUT_HEADER_SIZE + (error === 0 ? bodyLength : 0);
  fuse_out_header.write(view, 0, { len, error, unique });
  return len;
}

/**
 * The NUL-terminated strings of `bytes[start, end)`, in order (a name, or old and new name, or a symlink's name and
 * target). Returns undefined if fewer than `count` terminated strings are there.
 */
export function decodeNames(bytes: Uint8Array, start: number, end: number, count: number): string[] | undefined {
  const names: string[] = [];
  let at = start;
  for (let i = 0; i < count; i++) {
    const nul = bytes.indexOf(0, at);
    if (nul < 0 || nul >= end) return undefined;
    names.push(bytesToName(bytes, at, nul)); // a byte string (names.ts of the ipc-router protocol)
    at = nul + 1;
  }
  return names;
}
