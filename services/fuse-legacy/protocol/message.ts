/**
 * @module message — framing of FUSE messages: the request header and the NUL-terminated names after a request's
 * fixed struct, the reply header (`fuse_out_header`) in front of a reply body, and the notifications the server
 * writes unasked.
 */
import { bytesToName } from "../../../kernel/ipc/protocol/names.ts";
import { FUSE_NOTIFY_INVAL_ENTRY, FUSE_NOTIFY_INVAL_INODE } from "./flags.ts";
import { fuse_in_header, fuse_notify_inval_entry_out, fuse_notify_inval_inode_out, fuse_out_header } from "./structs.ts";

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

/** A FUSE_NOTIFY_INVAL_INODE message: drop node `nodeid`'s cached attributes and all its cached pages. */
export function encodeNotifyInvalInode(nodeid: number): Uint8Array {
  const message = new Uint8Array(OUT_HEADER_SIZE + fuse_notify_inval_inode_out.size);
  const view = new DataView(message.buffer);
  // A notification: unique 0, the notify code where a reply has its error.
  fuse_out_header.write(view, 0, { len: message.length, error: FUSE_NOTIFY_INVAL_INODE, unique: 0 });
  fuse_notify_inval_inode_out.write(view, OUT_HEADER_SIZE, { ino: nodeid, off: 0, len: 0 });
  return message;
}

/** A FUSE_NOTIFY_INVAL_ENTRY message: drop the cached entry of `name` (its bytes) in directory node `parent`. */
export function encodeNotifyInvalEntry(parent: number, name: Uint8Array): Uint8Array {
  const body = OUT_HEADER_SIZE + fuse_notify_inval_entry_out.size;
  const message = new Uint8Array(body + name.length + 1);
  const view = new DataView(message.buffer);
  fuse_out_header.write(view, 0, { len: message.length, error: FUSE_NOTIFY_INVAL_ENTRY, unique: 0 });
  fuse_notify_inval_entry_out.write(view, OUT_HEADER_SIZE, { parent, namelen: name.length, flags: 0 });
  message.set(name, body); // then the NUL the array starts with
  return message;
}
