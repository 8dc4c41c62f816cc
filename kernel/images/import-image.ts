/**
 * @module import-image — `danaus image import`: an image's layers written onto a tenant's backend under
 * `images/<name>/layer<i>` (layer0 at the bottom: the first source), with `images/<name>/manifest.json`. The image is
 * built under a hidden name and renamed into place at the end, so a failed import leaves no half image behind.
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { FsError } from "../ipc/protocol/index.ts";
import { isGzip } from "./decompress.ts";
import { lstatOrNull, mkdirs, removeTree } from "./fs-tree.ts";
import { ImageError } from "./image-error.ts";
import { writeDirectoryLayer } from "./import-directory.ts";
import { writeTarLayer } from "./import-tar.ts";
import { LayerWriter } from "./layer-writer.ts";
import { checkImageName, IMAGES_DIR, imagePath, writeManifest, type ImageManifest, type ManifestLayer } from "./manifest.ts";
import { openTenantBackend, type TenantRef } from "./tenant-backend.ts";

/** Options of {@link importImage}. */
export interface ImportOptions {
  /** Replace an existing image of the same name (default: refuse). */
  force?: boolean;
}

/** What an import did. */
export interface ImportResult {
  readonly manifest: ImageManifest;
  /** True when an existing image was replaced (`force`). */
  readonly replaced: boolean;
}

/**
 * Imports `sources` as image `name` of tenant `ref`: each source is one layer, the first at the bottom (layer0). A
 * source is a directory (a root file system, copied as it is) or an OCI layer tar, plain or gzip-compressed.
 * Throws ImageError: "invalid" for a bad name or a bad tar (naming the entry and its offset), "not-found" for a
 * missing source, "exists" when the image exists and `force` is not set, "io" when the backend refuses a write.
 */
export async function importImage(ref: TenantRef, name: string, sources: readonly string[], options: ImportOptions = {}): Promise<ImportResult> {
  checkImageName(name);
  if (sources.length === 0) throw new ImageError("invalid", "an image needs at least one source: a root file system directory or layer tars");
  const kinds = sources.map((source) => {
    try {
      return statSync(source).isDirectory() ? ("directory" as const) : ("file" as const);
    } catch {
      throw new ImageError("not-found", `${source}: no such file or directory`);
    }
  });
  const backend = await openTenantBackend(ref, "image-import");
  const fs = backend.fs;
  const final = `/${imagePath(name)}`;
  const partial = `/${IMAGES_DIR}/.${name}.partial-${process.pid}`;
  try {
    mkdirs(fs, `/${IMAGES_DIR}`, 0o755);
    const existing = lstatOrNull(fs, final);
    if (existing !== null && !options.force) {
      throw new ImageError("exists", `tenant "${ref.tenant.name}" already has image "${name}" (${final.slice(1)}); pass --force to replace it`);
    }
    removeTree(fs, partial);
    const chown = process.getuid?.() === 0;
    const layers: ManifestLayer[] = [];
    for (const [i, source] of sources.entries()) {
      const writer = new LayerWriter(fs, `${partial}/layer${i}`, chown);
      const path = `${imagePath(name)}/layer${i}`;
      const absolute = resolve(source);
      if (kinds[i] === "directory") {
        const { digest, skipped } = writeDirectoryLayer(writer, absolute);
        layers.push({ path, source: absolute, format: "directory", digest, ...writer.counts, skipped });
      } else {
        const bytes = await Bun.file(absolute).bytes();
        const { diffId, skipped } = writeTarLayer(writer, bytes, source);
        const digest = `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
        layers.push({ path, source: absolute, format: isGzip(bytes) ? "tar+gzip" : "tar", digest, diffId, ...writer.counts, skipped });
      }
    }
    const manifest: ImageManifest = { schemaVersion: 1, name, created: new Date().toISOString(), layers: layers.reverse() };
    writeManifest(fs, partial, manifest);
    fs.chmod(partial, 0o755);
    if (existing !== null) removeTree(fs, final);
    fs.rename(partial, final, 0);
    return { manifest, replaced: existing !== null };
  } catch (error) {
    try {
      removeTree(fs, partial);
    } catch {
      // The first error is the one to report; a leftover partial directory is hidden and replaced by the next import.
    }
    if (error instanceof FsError) throw new ImageError("io", `writing image "${name}" of tenant "${ref.tenant.name}": ${error.message}`, { cause: error });
    throw error;
  } finally {
    await backend.close();
  }
}
