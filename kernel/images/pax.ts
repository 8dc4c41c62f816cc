/** @module pax — PAX extended header records (`<length> <key>=<value>\n`), as POSIX.1-2001 tar writes them. */
import { bytesToName } from "../ipc/protocol/index.ts";

/**
 * Records are decoded as byte strings (names.ts of the protocol): `path` and `linkpath` keep their exact bytes whether
 * the writer used UTF-8 or `hdrcharset=BINARY`; keys and numbers are ASCII either way.
 */
const decoder = { decode: (bytes: Uint8Array) => bytesToName(bytes) };

/**
 * Parses the data of a PAX extended header ("x" or "g" entry) into its key/value pairs.
 * Returns the map, or a string saying which record is malformed (for the caller's TarError).
 */
export function parsePaxRecords(data: Uint8Array): Map<string, string> | string {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    if (data[at] === 0) break; // some writers pad the data with NULs
    const space = data.indexOf(0x20, at);
    const lengthText = space < 0 ? "" : decoder.decode(data.subarray(at, space));
    const length = /^\d+$/.test(lengthText) ? Number(lengthText) : NaN;
    if (!(length > 0) || at + length > data.length || data[at + length - 1] !== 0x0a) {
      return `malformed PAX record at byte ${at} of the extended header`;
    }
    const record = decoder.decode(data.subarray(space + 1, at + length - 1));
    const equals = record.indexOf("=");
    if (equals <= 0) return `PAX record without "key=value" at byte ${at} of the extended header`;
    records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}
