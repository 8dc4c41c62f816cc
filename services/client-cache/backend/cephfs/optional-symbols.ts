/**
 * @module optional-symbols — libcephfs functions that older or newer libcephfs versions may lack, each probed in its
 * own dlopen (one missing symbol would make a shared dlopen throw) and each with a fallback.
 */
import { dlopen, FFIType } from "bun:ffi";
import { libcephfs, LIBCEPHFS_SONAME, type Address } from "./libcephfs.ts";

type SelectFilesystem = (cmount: Address, name: Buffer) => number;
type GetFsCid = (cmount: Address) => number | bigint;

let selectFilesystemSymbol: SelectFilesystem | null | undefined;
let getFsCidSymbol: GetFsCid | null | undefined;

function probeSelectFilesystem(): SelectFilesystem | null {
  try {
    // int ceph_select_filesystem(struct ceph_mount_info *cmount, const char *fs_name) — Nautilus and later
    const lib = dlopen(LIBCEPHFS_SONAME, { ceph_select_filesystem: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } });
    return (cmount, name) => lib.symbols.ceph_select_filesystem(cmount, name);
  } catch {
    return null;
  }
}

function probeGetFsCid(): GetFsCid | null {
  try {
    // int64_t ceph_get_fs_cid(struct ceph_mount_info *cmount) — Octopus and later
    const lib = dlopen(LIBCEPHFS_SONAME, { ceph_get_fs_cid: { args: [FFIType.ptr], returns: FFIType.i64_fast } });
    return (cmount) => lib.symbols.ceph_get_fs_cid(cmount);
  } catch {
    return null;
  }
}

/**
 * Chooses the filesystem `name` (a NUL-terminated Buffer) to mount: ceph_select_filesystem when present, else the
 * `client_mds_namespace` option older clients read. Call before ceph_mount. Returns 0 or a negative errno.
 */
export function selectFilesystem(cmount: Address, name: Buffer): number {
  selectFilesystemSymbol ??= probeSelectFilesystem();
  if (selectFilesystemSymbol !== null) return selectFilesystemSymbol(cmount, name);
  return libcephfs().ceph_conf_set(cmount, Buffer.from("client_mds_namespace\0"), name);
}

/** The mounted filesystem's id (fscid), or -1 when this libcephfs cannot tell (ceph_get_fs_cid missing). */
export function filesystemId(cmount: Address): number {
  getFsCidSymbol ??= probeGetFsCid();
  if (getFsCidSymbol === null) return -1;
  return Number(getFsCidSymbol(cmount));
}

/** The state-reclaim calls (Nautilus and later), used to take over the session of a killed predecessor. */
interface ReclaimCalls {
  ceph_init(cmount: Address): number;
  ceph_set_session_timeout(cmount: Address, seconds: number): void;
  ceph_start_reclaim(cmount: Address, uuid: Buffer, flags: number): number;
  ceph_finish_reclaim(cmount: Address): void;
  ceph_set_uuid(cmount: Address, uuid: Buffer): void;
}

let reclaimSymbols: ReclaimCalls | null | undefined;

function probeReclaim(): ReclaimCalls | null {
  try {
    const lib = dlopen(LIBCEPHFS_SONAME, {
      // int ceph_init(struct ceph_mount_info *cmount)
      ceph_init: { args: [FFIType.ptr], returns: FFIType.i32 },
      // void ceph_set_session_timeout(struct ceph_mount_info *cmount, unsigned timeout)
      ceph_set_session_timeout: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.void },
      // int ceph_start_reclaim(struct ceph_mount_info *cmount, const char *uuid, unsigned flags)
      ceph_start_reclaim: { args: [FFIType.ptr, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
      // void ceph_finish_reclaim(struct ceph_mount_info *cmount)
      ceph_finish_reclaim: { args: [FFIType.ptr], returns: FFIType.void },
      // void ceph_set_uuid(struct ceph_mount_info *cmount, const char *uuid)
      ceph_set_uuid: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.void },
    });
    return lib.symbols as unknown as ReclaimCalls;
  } catch {
    return null;
  }
}

/** CEPH_RECLAIM_RESET: evict the old session (its caps and unflushed state are dropped) instead of taking it over. */
const CEPH_RECLAIM_RESET = 1;

/**
 * Before ceph_mount: names this client's session `uuid` and evicts a previous session of the same name (a
 * predecessor that was killed), so the MDS does not hold that session's capabilities until its timeout (about a
 * minute, during which other clients' access to those files stalls). `sessionTimeoutSeconds` > 0 also shortens how
 * long the MDS waits for an unresponsive holder of this uuid. Returns 0, or a negative errno; -ENOENT (no previous
 * session) counts as success. Returns -EOPNOTSUPP when this libcephfs lacks the reclaim calls.
 */
export function reclaimSession(cmount: Address, uuid: Buffer, sessionTimeoutSeconds: number): number {
  reclaimSymbols ??= probeReclaim();
  const calls = reclaimSymbols;
  if (calls === null) return -95;
  const init = calls.ceph_init(cmount);
  if (init < 0) return init;
  if (sessionTimeoutSeconds > 0) calls.ceph_set_session_timeout(cmount, sessionTimeoutSeconds);
  const started = calls.ceph_start_reclaim(cmount, uuid, CEPH_RECLAIM_RESET);
  if (started < 0 && started !== -2) return started;
  if (started === 0) calls.ceph_finish_reclaim(cmount);
  calls.ceph_set_uuid(cmount, uuid);
  return 0;
}
