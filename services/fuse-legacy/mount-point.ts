/**
 * @module mount-point — a legacy mount's directory on the host: made ready to mount whatever state it is in (a dead
 * FUSE mount, a stale mount of a previous run, missing), and sealed (immutable) so that while no server serves it, a
 * program writing under it gets EPERM instead of writing into the host's filesystem — root included.
 */
import { closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, rmdirSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ptr } from "bun:ffi";
import { errno, syscall } from "../../kernel/sys/libc.ts";
import { DetachError, detachFuseMounts, mountsAt } from "../../kernel/sys/mounts.ts";
import { ERRNO, errnoName } from "../../kernel/ipc/protocol/index.ts";

/**
 * The file fuse-legacy leaves in a mount point it created, before sealing it: a later run (after a kill) knows the
 * directory is its own to remove at stop, and someone looking at the bare directory learns why it refuses writes.
 */
export const CREATED_MARKER = ".danaus-mount-point";
const MARKER_TEXT = "Created by danaus fuse-legacy as a mount point. Sealed (chattr +i) so that it takes no writes while not served.\n";

/** A mount point that cannot be mounted on: `errno` says why in one word, the message in a sentence. */
export class MountPointError extends Error {
  override readonly name = "MountPointError";
  constructor(readonly path: string, readonly errno: number, readonly problem: string) {
    super(`mount point ${path}: ${problem}`);
  }
}

/** A mount point ready to mount on. */
export interface PreparedMountPoint {
  /** fuse-legacy created it (now or in an earlier run): removed again at stop. */
  readonly created: boolean;
  /** Immutable now; false when the host's filesystem has no immutable flag (then an unserved point takes writes). */
  readonly sealed: boolean;
  /** FUSE mounts left at the path (a killed server's, ENOTCONN) that were detached. */
  readonly detached: number;
}

const SYS_IOCTL = 16;
const FS_IOC_GETFLAGS = 0x80086601;
const FS_IOC_SETFLAGS = 0x40086602;
const FS_IMMUTABLE_FL = 0x10;

/**
 * Sets or clears the immutable flag of directory `path`. Returns false when its filesystem has no such flag
 * (ENOTTY, EOPNOTSUPP); throws {@link MountPointError} on any other failure.
 */
function setImmutable(path: string, on: boolean): boolean {
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    const flags = new Int32Array(1);
    if (syscall(SYS_IOCTL, fd, FS_IOC_GETFLAGS, ptr(flags)) < 0) return unsupported(path, errno());
    const wanted = on ? flags[0]! | FS_IMMUTABLE_FL : flags[0]! & ~FS_IMMUTABLE_FL;
    if (wanted === flags[0]) return true;
    flags[0] = wanted;
    if (syscall(SYS_IOCTL, fd, FS_IOC_SETFLAGS, ptr(flags)) < 0) return unsupported(path, errno());
    return true;
  } finally {
    closeSync(fd);
  }
}

function unsupported(path: string, code: number): false {
  if (code === ERRNO.ENOTTY || code === ERRNO.EOPNOTSUPP || code === ERRNO.EINVAL) return false;
  throw new MountPointError(path, code, `cannot change its immutable flag: ${errnoName(code) ?? `errno ${code}`}`);
}

/**
 * Makes `path` a directory ready to mount on: detaches FUSE mounts a killed server left there, creates it when missing
 * (with {@link CREATED_MARKER}), and seals it. Throws {@link MountPointError}: ENOTDIR when a file (or symlink) is in
 * the way — it is left as it is —, or the errno of a step that failed.
 */
export function prepareMountPoint(path: string): PreparedMountPoint {
  let detached: number;
  try {
    detached = detachFuseMounts(path);
  } catch (error) {
    if (!(error instanceof DetachError)) throw error;
    throw new MountPointError(path, error.errno, `cannot detach the FUSE mount left there: ${errnoName(error.errno) ?? `errno ${error.errno}`}`);
  }
  let stat;
  try {
    stat = lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    const code = Math.abs((error as { errno?: number }).errno ?? ERRNO.EIO);
    throw new MountPointError(path, code, `cannot look at it: ${errnoName(code) ?? `errno ${code}`}`);
  }
  let created = false;
  if (stat === undefined) {
    // Explicit modes: service processes run with umask 0.
    mkdirSync(path, { recursive: true, mode: 0o755 });
    writeFileSync(join(path, CREATED_MARKER), MARKER_TEXT, { mode: 0o444 });
    created = true;
  } else if (!stat.isDirectory()) {
    const kind = stat.isSymbolicLink() ? "symbolic link" : stat.isFile() ? "file" : "non-directory";
    throw new MountPointError(path, ERRNO.ENOTDIR, `a ${kind} is in the way (left as it is): remove it, or change the mount's path`);
  } else {
    created = existsSync(join(path, CREATED_MARKER));
  }
  return { created, sealed: setImmutable(path, true), detached };
}

/**
 * After the mount at `path` is gone: a mount point fuse-legacy created is unsealed and removed (nothing is left to
 * write into); one that was there before stays sealed. Returns what was done; never throws (a stop must go on).
 */
export function releaseMountPoint(path: string, prepared: PreparedMountPoint): "removed" | "sealed" | "left" {
  if (!prepared.created) return prepared.sealed ? "sealed" : "left";
  if (mountsAt(path).length > 0) return "left";
  try {
    setImmutable(path, false);
    unlinkSync(join(path, CREATED_MARKER));
    rmdirSync(path);
    return "removed";
  } catch {
    // Not empty (someone wrote there before it was sealed), or busy: leave it, sealed again.
    try {
      setImmutable(path, true);
    } catch {
      // Gone meanwhile: nothing to seal.
    }
    return "left";
  }
}

/** Clears the seal of `path` (for tools and tests that remove a mount point fuse-legacy kept). False when not supported. */
export function unsealMountPoint(path: string): boolean {
  return setImmutable(path, false);
}
