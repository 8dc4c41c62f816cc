/** @module errors — the cephfs backend's errors that are not a path operation's errno: a missing library, a failed mount. */
import { errnoName } from "../../../../kernel/ipc/protocol/index.ts";

/** libcephfs.so.2 could not be loaded in this process: the Debian package libcephfs2 is not installed. */
export class CephLibraryMissingError extends Error {
  override readonly name = "CephLibraryMissingError";

  constructor(readonly soname: string, override readonly cause: unknown) {
    super(
      `cannot load ${soname} (${cause instanceof Error ? cause.message : String(cause)}): ` +
        "the cephfs backend needs libcephfs; install the package libcephfs2 (apt-get install libcephfs2)",
    );
  }
}

/** Special results of ceph_mount that are not errno values (CEPHFS_ERROR_* in libcephfs.h). */
const MOUNT_ERRORS: Readonly<Record<number, string>> = {
  1000: "could not build the monitor map (check `mon host` in the conf)",
  1002: "could not create the client",
  1003: "could not start the messenger",
};

/**
 * A libcephfs call made while setting up or tearing down a mount failed (ceph_create, ceph_conf_read_file,
 * ceph_conf_set, ceph_select_filesystem, ceph_mount, ceph_unmount...). `errno` is positive.
 */
export class CephMountError extends Error {
  override readonly name = "CephMountError";
  /** The errno name ("ENOENT"), or undefined for codes that are not errno values. */
  readonly code: string | undefined;

  constructor(readonly call: string, readonly errno: number, readonly detail: string) {
    const code = errnoName(errno);
    const what = MOUNT_ERRORS[errno] ?? code ?? `error ${errno}`;
    super(`${call} failed: ${what}; ${detail}`);
    this.code = code;
  }
}
