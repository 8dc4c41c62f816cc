/**
 * @module names — how danaus holds a file name, a path or a symlink target: as a *byte string*, a JS string with one
 * char per byte (code units 0–255). On Linux a name is bytes (anything but `/` and NUL), not text; a byte string
 * keeps every byte exactly, so two names that differ in any byte stay two names on every layer (wire, router, union,
 * cache, backends, FUSE, images), while staying a `string` that hashes, compares and slices as fast as any. It is
 * what Node calls "latin1": `Buffer.from(s, "latin1")` and `buf.toString("latin1")` are exact both ways (unlike
 * `TextDecoder("latin1")`, which is windows-1252). Text from a user (a UTF-8 path of the TypeScript client) becomes a
 * byte string with {@link nameFromText}; a byte string is shown to a user with {@link textFromName} (invalid UTF-8
 * as U+FFFD, as Node does) or, in logs and status, with {@link escapeName}, which never merges two names.
 */

/** A char outside a byte string (code unit above 0xFF). */
const NOT_A_BYTE = /[^\x00-\xff]/;

/** Whether `name` is a byte string (every code unit 0–255). */
export function isByteString(name: string): boolean {
  return !NOT_A_BYTE.test(name);
}

/** The bytes of byte string `name` (the caller checked {@link isByteString}: a wider char would lose its high bits). */
export function nameToBytes(name: string): Buffer {
  return Buffer.from(name, "latin1");
}

/**
 * Writes byte string `name` into `into` at `at`, without allocating; returns the bytes written, or -1 when it does
 * not fit (or holds a char above 0xFF, which has no byte).
 */
export function writeName(name: string, into: Uint8Array, at = 0): number {
  if (at + name.length > into.length) return -1;
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    if (unit > 0xff) return -1;
    into[at + i] = unit;
  }
  return name.length;
}

/** The byte string of `bytes[start, end)`, exactly. */
export function bytesToName(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.toString("latin1", start, end);
}

/** The byte string of UTF-8 text (a path as a program writes it in a JS string). */
export function nameFromText(text: string): string {
  // ASCII is the same in both: skip the round trip on the common path.
  return isAscii(text) ? text : Buffer.from(text, "utf8").toString("latin1");
}

/** Byte string `name` decoded as UTF-8 text (invalid sequences become U+FFFD): for showing, never for naming. */
export function textFromName(name: string): string {
  return isAscii(name) ? name : Buffer.from(name, "latin1").toString("utf8");
}

/**
 * Byte string `name` for a log line or an error: printable ASCII as is, `\` and every other byte as `\xNN`, so two
 * names never look alike. (Chars above 0xFF, which only text can hold, are left as they are.)
 */
export function escapeName(name: string): string {
  if (!NEEDS_ESCAPE.test(name)) return name;
  let out = "";
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    out += (unit >= 0x20 && unit < 0x7f && unit !== 0x5c) || unit > 0xff ? name[i] : `\\x${unit.toString(16).padStart(2, "0")}`;
  }
  return out;
}

const NEEDS_ESCAPE = /[\x00-\x1f\x5c\x7f-\xff]/;

const NON_ASCII = /[^\x00-\x7f]/;

function isAscii(text: string): boolean {
  return !NON_ASCII.test(text);
}
