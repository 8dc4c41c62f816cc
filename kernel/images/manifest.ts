/**
 * @module manifest — an image on a tenant's backend: `images/<name>/layer<i>` (layer0 at the bottom) and
 * `images/<name>/manifest.json`, which lists the layers top first (the order of a union mount's `lowers`).
 */
import * as v from "valibot";
import { FsError, type FileSystem } from "../ipc/protocol/index.ts";
import { ImageError } from "./image-error.ts";

/** The directory of every image on a tenant's backend. */
export const IMAGES_DIR = "images";

/** One layer of an image, as the manifest records it. */
const LayerSchema = v.object({
  /** The layer's directory on the tenant's backend, e.g. "images/base/layer1". */
  path: v.string(),
  /** The source it came from, as given on the command line (absolute). */
  source: v.string(),
  /** "tar", "tar+gzip" or "directory". */
  format: v.picklist(["tar", "tar+gzip", "directory"]),
  /** sha256 of the source file ("sha256:<hex>"), or of a directory's entries in name order. */
  digest: v.string(),
  /** For tars: sha256 of the uncompressed tar (the OCI diff_id). */
  diffId: v.optional(v.string()),
  files: v.number(),
  directories: v.number(),
  symlinks: v.number(),
  hardlinks: v.number(),
  bytes: v.number(),
  /** Entries the layer could not hold (devices, FIFOs, sockets). */
  skipped: v.array(v.string()),
});

/** The manifest of an image. */
export const ManifestSchema = v.object({
  schemaVersion: v.literal(1),
  name: v.string(),
  /** ISO 8601 time of the import. */
  created: v.string(),
  /** Top first: the order of a union mount's `lowers`. */
  layers: v.array(LayerSchema),
});

/** The manifest of an image (`images/<name>/manifest.json`). */
export type ImageManifest = v.InferOutput<typeof ManifestSchema>;
/** One layer's record in the manifest. */
export type ManifestLayer = ImageManifest["layers"][number];

/** Checks an image name: lower-case letters, digits, ".", "_" and "-", starting with a letter or digit. Throws ImageError "invalid". */
export function checkImageName(name: string): void {
  if (!/^[a-z0-9][a-z0-9._-]{0,127}$/.test(name)) {
    throw new ImageError("invalid", `"${name}" is not an image name (lower-case letters, digits, ".", "_" and "-", starting with a letter or digit)`);
  }
}

/** The backend path of image `name` ("images/<name>"). */
export function imagePath(name: string): string {
  return `${IMAGES_DIR}/${name}`;
}

/**
 * Reads the manifest of image `name` from a tenant's backend `fs`. Throws ImageError "not-found" when the image (or
 * its manifest) does not exist, "invalid" when the manifest is not one.
 */
export function readManifest(fs: FileSystem, name: string, tenant: string): ImageManifest {
  const path = `/${imagePath(name)}/manifest.json`;
  let text: string;
  try {
    const fd = fs.open(path, 0, 0);
    try {
      const size = fs.fstat(fd).st_size;
      const bytes = new Uint8Array(size);
      for (let at = 0; at < size; ) {
        const n = fs.pread(fd, bytes.subarray(at), at);
        if (n === 0) break;
        at += n;
      }
      text = new TextDecoder().decode(bytes);
    } finally {
      fs.close(fd);
    }
  } catch (error) {
    if (error instanceof FsError && error.code === "ENOENT") throw new ImageError("not-found", `tenant "${tenant}" has no image "${name}" (no ${path.slice(1)}; import it with \`danaus image import\`)`);
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ImageError("invalid", `${path.slice(1)} of tenant "${tenant}" is not JSON: ${(error as Error).message}`);
  }
  const result = v.safeParse(ManifestSchema, parsed);
  if (!result.success) throw new ImageError("invalid", `${path.slice(1)} of tenant "${tenant}" is not an image manifest: ${result.issues.map((i) => `${v.getDotPath(i) ?? ""} ${i.message}`).join("; ")}`);
  return result.output;
}

/** Writes `manifest` as `<dir>/manifest.json` (mode 0644) on `fs`. Throws FsError. */
export function writeManifest(fs: FileSystem, dir: string, manifest: ImageManifest): void {
  const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n");
  const fd = fs.open(`${dir}/manifest.json`, 0o1 | 0o100 | 0o1000 /* O_WRONLY|O_CREAT|O_TRUNC */, 0o644);
  try {
    for (let at = 0; at < bytes.length; ) at += fs.pwrite(fd, bytes.subarray(at), at);
  } finally {
    fs.close(fd);
  }
  fs.chmod(`${dir}/manifest.json`, 0o644);
}
