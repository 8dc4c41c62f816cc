/** @module mounts — the mounts at a path now, from /proc/self/mounts (octal escapes such as \040 decoded). */
import { readFileSync } from "node:fs";

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
