/** @module mounts — the mounts at a path now, from /proc/self/mounts (octal escapes such as \040 decoded), and detaching the FUSE ones. */
import { readFileSync } from "node:fs";
import { errno, MOUNT, umount2 } from "./libc.ts";

const decode = (field: string): string => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));

/** The filesystem types mounted at `path` (absolute, normalized), bottom first: the last one is what the path shows. */
export function mountsAt(path: string): string[] {
  const types: string[] = [];
  for (const line of readFileSync("/proc/self/mounts", "utf8").split("\n")) {
    const [, point, type] = line.split(" ");
    if (point !== undefined && type !== undefined && decode(point) === path) types.push(type);
  }
  return types;
}

/** True when `path` (absolute, normalized) is a mount point in this process's mount namespace. */
export function isMountPoint(path: string): boolean {
  return mountsAt(path).length > 0;
}

/** A mount at `path` that could not be detached; `errno` is the kernel's. */
export class DetachError extends Error {
  override readonly name = "DetachError";
  constructor(readonly path: string, readonly errno: number) {
    super(`cannot detach the FUSE mount at ${path}: errno ${errno}`);
  }
}

/**
 * Detaches every FUSE mount on top of `path` (lazily: a dead server's mount can hang a plain unmount), such as the
 * dead one (ENOTCONN) a killed FUSE server leaves. Returns how many; throws {@link DetachError}.
 */
export function detachFuseMounts(path: string): number {
  let detached = 0;
  while (mountsAt(path).at(-1)?.startsWith("fuse")) {
    if (umount2(Buffer.from(`${path}\0`), MOUNT.MNT_DETACH) !== 0) throw new DetachError(path, errno());
    detached++;
  }
  return detached;
}
