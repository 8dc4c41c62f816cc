/**
 * @module mount — the kernel side of a FUSE mount without libfuse: open /dev/fuse, mount(2) a `fuse.<name>` filesystem
 * on that fd, and unmount (umount2, falling back to MNT_DETACH). mount(2) needs CAP_SYS_ADMIN; without it
 * {@link mountFuseDevice} falls back to the setuid helper fusermount3 (see fusermount.ts).
 */
import { closeSync, openSync } from "node:fs";
import { errno, MOUNT, mount, umount2 } from "../../../kernel/sys/libc.ts";
import { ERRNO, errnoName } from "../../../kernel/ipc/protocol/index.ts";
import { mountWithFusermount, unmountWithFusermount } from "./fusermount.ts";

/** A mount or unmount the kernel refused; `errno` is the kernel's. */
export class FuseMountError extends Error {
  override readonly name = "FuseMountError";
  constructor(readonly mountPoint: string, readonly errno: number, readonly operation: "open" | "mount" | "umount") {
    super(
      `${operation} of FUSE mount ${mountPoint} failed: ${errnoName(errno) ?? `errno ${errno}`}` +
        (errno === 1 ? " (needs root / CAP_SYS_ADMIN)" : errno === 2 ? " (does the mount point and /dev/fuse exist?)" : ""),
    );
  }
}

const cString = (text: string): Buffer => Buffer.from(`${text}\0`);

/** Opens /dev/fuse read-write; returns the fd. Throws {@link FuseMountError} (ENOENT without FUSE, EACCES). */
export function openFuseDevice(mountPoint: string): number {
  try {
    return openSync("/dev/fuse", "r+");
  } catch (error) {
    const code = (error as { errno?: number }).errno;
    throw new FuseMountError(mountPoint, Math.abs(code ?? 5), "open");
  }
}

/** How to mount. */
export interface MountSpec {
  /** The fd from {@link openFuseDevice}. */
  readonly fd: number;
  readonly mountPoint: string;
  /** Filesystem name: the type becomes `fuse.<name>`, the source `<name>`. Default "danaus". */
  readonly name?: string;
  /** Let users other than the mounting one use the mount (`allow_other`). Default true. */
  readonly allowOther?: boolean;
  /**
   * Let the kernel check permission bits against the cached attributes (`default_permissions`). Default true: the
   * server runs as root, so without it any user of an allow_other mount would get root's access.
   */
  readonly defaultPermissions?: boolean;
}

/**
 * mount(2) of a FUSE filesystem served on `spec.fd` (MS_NOSUID | MS_NODEV, rootmode 040000, the caller's uid/gid).
 * With default_permissions unless turned off. The kernel queues FUSE_INIT on the fd at once: the caller must answer it. Throws {@link FuseMountError}.
 */
export function mountFuse(spec: MountSpec): void {
  const name = spec.name ?? "danaus";
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const data = `fd=${spec.fd},rootmode=40000,user_id=${uid},group_id=${gid}${spec.allowOther === false ? "" : ",allow_other"}` +
    (spec.defaultPermissions === false ? "" : ",default_permissions");
  const status = mount(cString(name), cString(spec.mountPoint), cString(`fuse.${name}`), MOUNT.MS_NOSUID | MOUNT.MS_NODEV, cString(data));
  if (status !== 0) throw new FuseMountError(spec.mountPoint, errno(), "mount");
}

/**
 * Unmounts `mountPoint`: umount2(0), and when that fails with EBUSY, umount2(MNT_DETACH) (the mount disappears now,
 * the connection ends when its last user goes). Returns 0, or the errno of the last attempt (EINVAL: not a mount).
 */
export function unmountFuse(mountPoint: string): number {
  const target = cString(mountPoint);
  if (umount2(target, 0) === 0) return 0;
  const first = errno();
  if (first !== 16) return first;
  return umount2(target, MOUNT.MNT_DETACH) === 0 ? 0 : errno();
}

/** Closes the /dev/fuse fd (aborting the connection if still mounted: the mount then answers ENOTCONN). */
export function closeFuseDevice(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing to release.
  }
}

/** How a mount was made: mount(2) by this process, or the setuid helper fusermount3. */
export type MountedBy = "mount(2)" | "fusermount3";

/** How to mount: "auto" (default) tries mount(2) and falls back to fusermount3 when it is not permitted. */
export type MountWith = "auto" | MountedBy;

/** A FUSE mount made by {@link mountFuseDevice}. */
export interface FuseDeviceMount {
  /** The /dev/fuse fd the kernel queued FUSE_INIT on: answer it, serve it, close it after unmounting. */
  readonly fd: number;
  readonly mountedBy: MountedBy;
  /** Options fusermount3 could not be given (`allow_other` without `user_allow_other` in /etc/fuse.conf). */
  readonly dropped: readonly string[];
  /** Why mount(2) was not used when the fallback was taken ("EPERM" / "EACCES"). */
  readonly fallbackReason?: string;
}

/**
 * Opens /dev/fuse and mounts with mount(2); when that is not permitted (EPERM from mount(2), EPERM/EACCES opening the
 * device) and `mountWith` is "auto", mounts through fusermount3 instead, which hands back its own /dev/fuse fd.
 * Nothing stays open or mounted on failure. Throws {@link FuseMountError} or FusermountError.
 */
export async function mountFuseDevice(spec: Omit<MountSpec, "fd"> & { readonly mountWith?: MountWith; readonly timeoutMs?: number }): Promise<FuseDeviceMount> {
  const mountWith = spec.mountWith ?? "auto";
  let refused: FuseMountError | undefined;
  if (mountWith !== "fusermount3") {
    let fd = -1;
    try {
      fd = openFuseDevice(spec.mountPoint);
      mountFuse({ ...spec, fd });
      return { fd, mountedBy: "mount(2)", dropped: [] };
    } catch (error) {
      if (fd >= 0) closeFuseDevice(fd);
      const notPermitted = error instanceof FuseMountError && (error.errno === ERRNO.EPERM || error.errno === ERRNO.EACCES);
      if (mountWith === "mount(2)" || !notPermitted) throw error;
      refused = error;
    }
  }
  const { fd, dropped } = await mountWithFusermount(
    spec.mountPoint,
    { name: spec.name ?? "danaus", allowOther: spec.allowOther !== false, defaultPermissions: spec.defaultPermissions !== false },
    spec.timeoutMs,
  );
  return { fd, mountedBy: "fusermount3", dropped, ...(refused ? { fallbackReason: errnoName(refused.errno) ?? `errno ${refused.errno}` } : {}) };
}

/** Unmounts the way it was mounted (umount2, or `fusermount3 -u -z`). Returns 0, EINVAL (not a mount) or the errno. */
export function unmountFuseMount(mountPoint: string, mountedBy: MountedBy): number {
  return mountedBy === "fusermount3" ? unmountWithFusermount(mountPoint) : unmountFuse(mountPoint);
}
