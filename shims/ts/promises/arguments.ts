/** @module arguments — Node's argument forms turned into what DanausClient takes: paths, open flags, modes, times, encodings. */
import { Buffer } from "node:buffer";
import { constants } from "node:fs";
import { fileURLToPath } from "node:url";
import { bytesToName, nameFromText, nameToBytes, textFromName, type Timespec } from "../../../kernel/ipc/protocol/index.ts";
import { InvalidArgumentError } from "./errors.ts";

/** A path as Node accepts it: a string, a Buffer/Uint8Array of UTF-8 bytes, or a `file:` URL. */
export type PathLike = string | Uint8Array | URL;
/** Open flags: a Node flag string ("r", "w+", "ax"...) or Linux `O_*` bits. */
export type OpenMode = string | number;
/** A permission mode: a number or an octal string ("755"). */
export type Mode = number | string;
/** A time for utimes: seconds since the epoch (a number or numeric string) or a Date. */
export type TimeLike = number | string | Date;

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, O_EXCL, O_SYNC } = constants;

/** Node's flag strings (lib/internal/fs/utils.js stringToFlags). */
const FLAG_STRINGS: Readonly<Record<string, number>> = {
  r: O_RDONLY,
  rs: O_RDONLY | O_SYNC,
  sr: O_RDONLY | O_SYNC,
  "r+": O_RDWR,
  "rs+": O_RDWR | O_SYNC,
  "sr+": O_RDWR | O_SYNC,
  w: O_TRUNC | O_CREAT | O_WRONLY,
  wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  xw: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  "w+": O_TRUNC | O_CREAT | O_RDWR,
  "wx+": O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  "xw+": O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  a: O_APPEND | O_CREAT | O_WRONLY,
  ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  xa: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  as: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  sa: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  "a+": O_APPEND | O_CREAT | O_RDWR,
  "ax+": O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  "xa+": O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  "as+": O_APPEND | O_CREAT | O_RDWR | O_SYNC,
  "sa+": O_APPEND | O_CREAT | O_RDWR | O_SYNC,
};

/**
 * The byte string (see names.ts) of a {@link PathLike}, node's way: a string or file URL is UTF-8 text, a Buffer or
 * Uint8Array its exact bytes. ERR_INVALID_ARG_TYPE for anything else, ERR_INVALID_ARG_VALUE for non-file URLs.
 */
export function toName(path: unknown, name = "path"): string {
  if (typeof path === "string") return nameFromText(path);
  if (path instanceof Uint8Array) return bytesToName(path);
  if (path instanceof URL) {
    if (path.protocol !== "file:") throw new InvalidArgumentError("ERR_INVALID_ARG_VALUE", `The "${name}" URL must be of scheme file; received ${path.href}`);
    return nameFromText(fileURLToPath(path));
  }
  throw new InvalidArgumentError("ERR_INVALID_ARG_TYPE", `The "${name}" argument must be of type string or an instance of Buffer or URL. Received ${describe(path)}`);
}

/** Byte string `name` in `encoding`: a Buffer of its bytes for null ("buffer"), node's decoding for a string encoding. */
export function nameAs(name: string, encoding: BufferEncoding | null): string | Buffer {
  if (encoding === null) return nameToBytes(name);
  if (encoding === "utf8" || encoding === "utf-8") return textFromName(name);
  return nameToBytes(name).toString(encoding);
}

/** The exact bytes of a {@link PathLike} (see {@link toName}), as the client takes them. */
export function toPath(path: unknown, name = "path"): Buffer {
  return nameToBytes(toName(path, name));
}

/** Linux open flags for a Node flag string or number; `fallback` when absent. ERR_INVALID_ARG_VALUE for an unknown string. */
export function toFlags(flags: OpenMode | null | undefined, fallback: OpenMode = "r"): number {
  const value = flags ?? fallback;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new InvalidArgumentError("ERR_INVALID_ARG_VALUE", `The argument 'flags' is invalid. Received ${value}`);
    return value;
  }
  const bits = FLAG_STRINGS[value];
  if (bits === undefined) throw new InvalidArgumentError("ERR_INVALID_ARG_VALUE", `The argument 'flags' is invalid. Received '${String(value)}' (use "r", "r+", "w", "w+", "wx", "a", "a+", "ax"... or O_* bits)`);
  return bits;
}

/** A mode as a number: numbers pass, octal strings are parsed, `fallback` when absent. ERR_INVALID_ARG_VALUE otherwise. */
export function toMode(mode: Mode | null | undefined, fallback: number, name = "mode"): number {
  if (mode === undefined || mode === null) return fallback;
  if (typeof mode === "string") {
    if (!/^[0-7]+$/.test(mode)) throw new InvalidArgumentError("ERR_INVALID_ARG_VALUE", `The argument '${name}' must be a 32-bit unsigned integer or an octal string. Received '${mode}'`);
    return Number.parseInt(mode, 8);
  }
  if (!Number.isInteger(mode) || mode < 0 || mode > 0xffffffff) throw new InvalidArgumentError("ERR_OUT_OF_RANGE", `The value of "${name}" is out of range. It must be a 32-bit unsigned integer. Received ${mode}`);
  return mode;
}

/** An integer argument (uid, gid, length...) checked like Node's validateInteger. */
export function toInteger(value: unknown, name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  const number = typeof value === "bigint" ? Number(value) : value;
  if (typeof number !== "number") throw new InvalidArgumentError("ERR_INVALID_ARG_TYPE", `The "${name}" argument must be of type number. Received ${describe(value)}`);
  if (!Number.isInteger(number) || number < min || number > max) throw new InvalidArgumentError("ERR_OUT_OF_RANGE", `The value of "${name}" is out of range. It must be an integer >= ${min} and <= ${max}. Received ${number}`);
  return number;
}

/** A utimes argument as seconds (Node's toUnixTimestamp: negative numbers mean now). ERR_INVALID_ARG_TYPE otherwise. */
export function toSeconds(time: unknown, name: string): number {
  if (typeof time === "string" && time.trim() !== "" && Number.isFinite(Number(time))) return Number(time);
  if (typeof time === "number" && Number.isFinite(time)) return time < 0 ? Date.now() / 1000 : time;
  if (time instanceof Date) return time.getTime() / 1000;
  throw new InvalidArgumentError("ERR_INVALID_ARG_TYPE", `The "${name}" argument must be of type Date or a time in seconds. Received ${describe(time)}`);
}

/** Seconds (possibly fractional) as a Timespec for utimens. */
export function toTimespec(seconds: number): Timespec {
  let sec = Math.floor(seconds);
  let nsec = Math.round((seconds - sec) * 1e9);
  if (nsec >= 1e9) {
    sec += 1;
    nsec -= 1e9;
  }
  return { sec, nsec };
}

/** The encoding named by a Node options argument (a string, or an object with `encoding`); null means bytes. */
export function encodingOf(options: unknown, fallback: BufferEncoding | null = null): BufferEncoding | null {
  if (typeof options === "string") return checkEncoding(options);
  if (options !== null && typeof options === "object" && "encoding" in options) {
    const encoding = (options as { encoding?: unknown }).encoding;
    if (encoding === undefined) return fallback;
    if (encoding === null || encoding === "buffer") return null;
    return checkEncoding(encoding);
  }
  return fallback;
}

function checkEncoding(encoding: unknown): BufferEncoding {
  if (typeof encoding === "string" && Buffer.isEncoding(encoding)) return encoding;
  throw new InvalidArgumentError("ERR_INVALID_ARG_VALUE", `The argument 'encoding' is invalid encoding. Received ${describe(encoding)}`);
}

/** Bytes of `data` (the same memory for views, `encoding` for strings). */
export function toBytes(data: string | ArrayBufferView, encoding: BufferEncoding | null = "utf8"): Uint8Array {
  if (typeof data === "string") return Buffer.from(data, encoding ?? "utf8");
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new InvalidArgumentError("ERR_INVALID_ARG_TYPE", `The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received ${describe(data)}`);
}

/** A short description of a value for error messages. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `an instance of ${value.constructor?.name ?? "Object"}`;
  if (typeof value === "string") return `type string ('${value.length > 28 ? `${value.slice(0, 25)}...` : value}')`;
  return `type ${typeof value} (${String(value)})`;
}
