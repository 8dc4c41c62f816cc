/**
 * @module import-tar — one OCI layer tar (plain or gzip) written as one layer. Whiteouts (`.wh.<name>`) and opaque
 * markers (`.wh..wh..opq`) are kept as the empty files they are in the tar; the union interprets them.
 */
import { escapeName, FsError } from "../ipc/protocol/index.ts";
import { tarBytes } from "./decompress.ts";
import { layerPath } from "./entry-path.ts";
import { ImageError } from "./image-error.ts";
import { timespec, type LayerWriter } from "./layer-writer.ts";
import { readTar, type TarEntry } from "./tar-reader.ts";
import { TarError } from "./tar-error.ts";

const CHUNK = 1 << 20;

/** What one tar layer held beyond what the writer counted. */
export interface TarLayerResult {
  /** sha256 of the uncompressed tar (the OCI diff_id), "sha256:<hex>". */
  readonly diffId: string;
  /** Entries a layer cannot hold (devices, FIFOs), as "path (type)". */
  readonly skipped: string[];
}

function where(label: string, entry: TarEntry): string {
  return `${label}: entry "${escapeName(entry.path)}" at byte ${entry.offset}`;
}

/**
 * Writes every entry of the layer file `file` (its bytes, gzip or not) through `writer`.
 * Throws ImageError "invalid" for a bad archive (naming the entry and its byte offset), an entry whose path leaves
 * the layer, or a hard link to an entry not in the layer; "io" when the backend refuses a write.
 */
export function writeTarLayer(writer: LayerWriter, file: Uint8Array<ArrayBuffer>, label: string): TarLayerResult {
  let bytes: Uint8Array;
  try {
    bytes = tarBytes(file, label);
  } catch (error) {
    throw new ImageError("invalid", (error as Error).message);
  }
  const skipped: string[] = [];
  try {
    for (const entry of readTar(bytes, label)) {
      const path = layerPath(entry.path);
      if (path === null) throw new ImageError("invalid", `${where(label, entry)}: the path climbs out of the layer with ".."`);
      const meta = { mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: timespec(entry.mtime) };
      try {
        switch (entry.type) {
          case "dir":
            writer.directory(path, meta);
            break;
          case "file":
            if (path === "") throw new ImageError("invalid", `${where(label, entry)}: a file cannot be the layer's root`);
            writer.file(path, meta, (write) => {
              for (let at = 0; at < entry.data.length; at += CHUNK) write(entry.data.subarray(at, at + CHUNK));
            });
            break;
          case "symlink":
            writer.symlink(path, entry.linkname, meta);
            break;
          case "hardlink": {
            const target = layerPath(entry.linkname);
            if (target === null || target === "") throw new ImageError("invalid", `${where(label, entry)}: hard link target "${escapeName(entry.linkname)}" is outside the layer`);
            if (!writer.has(target)) throw new ImageError("invalid", `${where(label, entry)}: hard link to "${escapeName(entry.linkname)}", which no earlier entry of this layer created`);
            writer.hardlink(path, target);
            break;
          }
          default:
            skipped.push(`${escapeName(path)} (${entry.type})`);
        }
      } catch (error) {
        if (error instanceof FsError) throw new ImageError("io", `${where(label, entry)}: the backend refused it: ${error.message}`, { cause: error });
        throw error;
      }
    }
  } catch (error) {
    if (error instanceof TarError) throw new ImageError("invalid", error.message, { cause: error });
    throw error;
  }
  writer.finish();
  return { diffId: `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`, skipped };
}
