/**
 * @module cephfs — the `cephfs` backend: CephFS through libcephfs (bun:ffi) as a FileSystem. One process-wide
 * {@link CephMount}; a {@link CephBackend} per tenant directory in any thread, built from the mount's
 * {@link CephShared}; handles valid in every thread of the process.
 */
export { CephBackend, type CephBackendOptions } from "./cephfs-backend.ts";
export { ensureCephDirectory } from "./ensure-directory.ts";
export { CephLibraryMissingError, CephMountError } from "./errors.ts";
export { cephVersion } from "./libcephfs.ts";
export { CephMount, type CephMountOptions, type CephShared, QUIET_CLIENT_LOG } from "./mount.ts";
export { cookieToOffset as cephCookieToOffset, offsetToCookie as cephOffsetToCookie } from "./readdir.ts";
export { MAX_IO_BYTES, transferInPieces } from "./transfer.ts";
export { CEPH_STATX, DIRENT64, STATVFS } from "./structs.ts";
