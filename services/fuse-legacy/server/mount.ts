/**
 * @module mount — the kernel side of a FUSE mount without libfuse: open /dev/fuse, mount(2) a `fuse.<name>` filesystem
 * on that fd, and unmount (umount2, falling back to MNT_DETACH). Needs CAP_SYS_ADMIN (root); there is no fusermount3
 * fallback.
 */
import { closeSync, openSync } from "node:fs";
import { errno, MOUNT, mount, umount2 } from "../../../kernel/sys/libc.ts";
import { errnoName } from "../../ipc-router/protocol/index.ts";

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
