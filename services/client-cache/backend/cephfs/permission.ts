/** @module permission — access(2)'s check of a file's mode bits, and mknod(2)'s of a device, against the service's credentials. */
import { S_IFCHR } from "../../../../kernel/ipc/protocol/linux.ts";
import { ACCESS, isDirectory } from "./linux.ts";

/** Who asks: the uid, primary gid and supplementary groups of the process (the mount's default credentials). */
export interface Credentials {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
}

/** The credentials of this process. */
export function processCredentials(): Credentials {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, groups: process.getgroups?.() ?? [] };
}

/**
 * Whether `who` may access a file of `mode` owned by `uid:gid` for `want` (R_OK | W_OK | X_OK), as Linux decides:
 * root may read and write anything and execute what has any x bit (or is a directory); others get the owner, group
 * or other bits, the first class that matches.
 */
export function mayAccess(who: Credentials, mode: number, uid: number, gid: number, want: number): boolean {
  if (who.uid === 0) return (want & ACCESS.X_OK) === 0 || isDirectory(mode) || (mode & 0o111) !== 0;
  let bits: number;
  if (who.uid === uid) bits = (mode >> 6) & 7;
  else if (who.gid === gid || who.groups.includes(gid)) bits = (mode >> 3) & 7;
  else bits = mode & 7;
  return (bits & want) === want;
}

/**
 * Whether `who` may make a device node of `type` numbered `rdev`, as Linux's mknod(2) decides (the MDS does not): root
 * (CAP_MKNOD) makes any; anybody makes the character device 0:0, which is an overlay whiteout.
 */
export function mayMakeDevice(who: Credentials, type: number, rdev: number): boolean {
  return who.uid === 0 || (type === S_IFCHR && rdev === 0);
}
