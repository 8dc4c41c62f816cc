/**
 * @module tar-reader — the entries of a tar archive held in memory: ustar headers, GNU long names and long link
 * names ("L", "K"), PAX extended headers ("x" for the next entry, "g" for all that follow: path, linkpath, size,
 * uid, gid, mtime). Archive-level records are applied here; callers see only the real entries.
 */
import { bytesToName } from "../ipc/protocol/index.ts";
import { parsePaxRecords } from "./pax.ts";
import { decodeHeader, isZeroBlock, TAR_BLOCK } from "./tar-header.ts";
import { TarError } from "./tar-error.ts";

/** The kinds of entry a layer can hold. */
export type TarEntryType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo";

/** One entry of the archive, with every long name and PAX record applied. */
export interface TarEntry {
  /** The path as stored (not normalized: may start with "./" or "/", may end with "/"). */
  readonly path: string;
  readonly type: TarEntryType;
  /** Permission bits with setuid, setgid and sticky (0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Seconds since the epoch; fractional when a PAX mtime says so. */
  readonly mtime: number;
  /** The symlink's target, or the path of the entry a hard link names; "" otherwise. */
  readonly linkname: string;
  /** The file's bytes (a view into the archive); empty for anything but "file". */
  readonly data: Uint8Array;
  /** The byte offset of the entry's own header block. */
  readonly offset: number;
}

const TYPES: Record<string, TarEntryType> = { "0": "file", "\0": "file", "7": "file", "1": "hardlink", "2": "symlink", "3": "char", "4": "block", "5": "dir", "6": "fifo" };
/** GNU long names and link names are bytes: decoded as byte strings (names.ts of the protocol). */
const decoder = { decode: (bytes: Uint8Array) => bytesToName(bytes) };

function nulTerminated(data: Uint8Array): string {
  const end = data.indexOf(0);
  return decoder.decode(end < 0 ? data : data.subarray(0, end));
}

/**
 * Yields the entries of the uncompressed tar archive `bytes`, in archive order. The archive ends at two zero blocks
 * (or one, or the end of the bytes at a block boundary, as some writers leave it).
 * Throws TarError (archive `label`, entry, offset) for a bad checksum, a non-numeric field, a truncated entry, a
 * malformed PAX record, or an entry type a layer cannot hold (GNU sparse "S", multi-volume "M").
 */
export function* readTar(bytes: Uint8Array, label: string): Generator<TarEntry> {
  let globals = new Map<string, string>();
  let pax: Map<string, string> | null = null;
  let longName: string | null = null;
  let longLink: string | null = null;
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + TAR_BLOCK > bytes.length) throw new TarError(label, offset, undefined, `truncated: ${bytes.length - offset} bytes left where a 512-byte header should be`);
    if (isZeroBlock(bytes, offset)) {
      if (pax !== null || longName !== null || longLink !== null) throw new TarError(label, offset, undefined, "the archive ends after an extended header, without its entry");
      return;
    }
    const header = decodeHeader(bytes.subarray(offset, offset + TAR_BLOCK));
    if (typeof header === "string") throw new TarError(label, offset, undefined, header);
    const records = new Map([...globals, ...(pax ?? [])]);
    const path = records.get("path") ?? longName ?? header.path;
    const sizeText = records.get("size");
    const size = sizeText === undefined ? header.size : Number(sizeText);
    if (!Number.isSafeInteger(size) || size < 0) throw new TarError(label, offset, path, `bad size ${JSON.stringify(sizeText)}`);
    const dataStart = offset + TAR_BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > bytes.length) throw new TarError(label, offset, path, `truncated: the entry says ${size} bytes of data, the archive has ${bytes.length - dataStart} left`);
    const data = bytes.subarray(dataStart, dataEnd);
    const next = dataStart + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
    switch (header.type) {
      case "L":
        longName = nulTerminated(data);
        break;
      case "K":
        longLink = nulTerminated(data);
        break;
      case "x":
      case "g": {
        const parsed = parsePaxRecords(data);
        if (typeof parsed === "string") throw new TarError(label, offset, header.path, parsed);
        if (header.type === "g") globals = new Map([...globals, ...parsed]);
        else pax = new Map([...(pax ?? []), ...parsed]);
        break;
      }
      case "V": // a volume label: not a file
        pax = null;
        longName = longLink = null;
        break;
      default: {
        const type = TYPES[header.type];
        if (type === undefined) throw new TarError(label, offset, path, `unsupported entry type ${JSON.stringify(header.type)} (GNU sparse and multi-volume archives are not supported)`);
        const number = (key: string, fallback: number): number => {
          const value = records.get(key);
          if (value === undefined) return fallback;
          const parsed = Number(value);
          if (!Number.isFinite(parsed)) throw new TarError(label, offset, path, `PAX ${key} is not a number (${JSON.stringify(value)})`);
          return parsed;
        };
        yield {
          path,
          type,
          mode: header.mode,
          uid: number("uid", header.uid),
          gid: number("gid", header.gid),
          mtime: number("mtime", header.mtime),
          linkname: records.get("linkpath") ?? longLink ?? header.linkname,
          data: type === "file" ? data : data.subarray(0, 0),
          offset,
        };
        pax = null;
        longName = longLink = null;
      }
    }
    offset = next;
  }
}
