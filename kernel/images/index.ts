/**
 * @module images — container images on a tenant's backend: importing a root file system directory or OCI layer tars
 * as `images/<name>/layer<i>` with a manifest, and cloning an image as union mounts of the tenant.
 */
export { ImageError, type ImageErrorKind } from "./image-error.ts";
export { TarError } from "./tar-error.ts";
export { readTar, type TarEntry, type TarEntryType } from "./tar-reader.ts";
export { tarBytes, isGzip } from "./decompress.ts";
export { importImage, type ImportOptions, type ImportResult } from "./import-image.ts";
export { checkImageName, imagePath, IMAGES_DIR, ManifestSchema, readManifest, type ImageManifest, type ManifestLayer } from "./manifest.ts";
export { findTenant, openTenantBackend, type OpenBackend, type TenantRef } from "./tenant-backend.ts";
export { appendedTenant, cloneMounts, defaultClonePrefix, mountsToml, prepareCloneBranches, writeTenantFile, type CloneMount } from "./clone-mounts.ts";
