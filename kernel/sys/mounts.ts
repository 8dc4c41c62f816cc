/** @module mounts — whether a path is a mount point now, from /proc/self/mounts (octal escapes such as \040 decoded). */
import { readFileSync } from "node:fs";

/** The mount point field of a /proc mounts line, with the kernel's octal escapes (space, tab, newline, backslash) decoded. */
function mountPointOf(line: string): string | undefined {
  return line.split(" ")[1]?.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** True when `path` (absolute, normalized) is a mount point in this process's mount namespace. */
export function isMountPoint(path: string): boolean {
  return readFileSync("/proc/self/mounts", "utf8").split("\n").some((line) => mountPointOf(line) === path);
}
