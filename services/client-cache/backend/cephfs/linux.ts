/** @module linux — the Linux x86-64 flag and mode values the cephfs backend checks itself (libcephfs takes raw Linux values). */

import { O, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, SEEK } from "../../../../kernel/ipc/protocol/linux.ts";

export { O, SEEK };

/** The open flags handed on to ceph_ll_open / ceph_ll_create; the others are acted on by the backend itself. */
export const CEPH_OPEN_FLAGS = O.ACCMODE | O.TRUNC | O.APPEND | O.DSYNC | O.DIRECT | O.SYNC;

/** File type bits of a mode and the types the backend tells apart. */
export const S = { IFMT: S_IFMT, IFDIR: S_IFDIR, IFREG: S_IFREG, IFLNK: S_IFLNK } as const;

/** The *at flag acting on a final symlink itself. */
export const AT_SYMLINK_NOFOLLOW = 0x100;

/** access(2) mode bits. */
export const ACCESS = { F_OK: 0, X_OK: 1, W_OK: 2, R_OK: 4 } as const;

/** Longest name of one path component in bytes (NAME_MAX): longer ones fail with ENAMETOOLONG. */
export const NAME_MAX = 255;
/** Size of the longest path including its NUL (PATH_MAX): a path of this many bytes fails with ENAMETOOLONG. */
export const PATH_MAX = 4096;

/** Most symlinks one lookup follows before failing with ELOOP (MAXSYMLINKS). */
export const MAX_SYMLINKS = 40;

/** True when `mode` is a directory. */
export function isDirectory(mode: number): boolean {
  return (mode & S.IFMT) === S.IFDIR;
}

/** True when `mode` is a symbolic link. */
export function isSymlink(mode: number): boolean {
  return (mode & S.IFMT) === S.IFLNK;
}
