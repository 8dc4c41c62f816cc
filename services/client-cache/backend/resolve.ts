/**
 * @module resolve — every path lookup of the local backend, confined to its root by the kernel.
 *
 * The confinement rule:
 * 1. A path is only ever walked by openat2(2) relative to the root's O_PATH fd with RESOLVE_IN_ROOT |
 *    RESOLVE_NO_MAGICLINKS: the kernel resolves as if the root were "/" — ".." at the root stays at the root,
 *    absolute symlinks and symlinks climbing out are resolved inside it, /proc magic links are refused — and it
 *    fails with EAGAIN (retried here) rather than let a concurrent rename carry a ".." walk outside.
 * 2. Operations that follow the final symlink (open, stat, chmod, truncate, access, statfs, chown/utimens without
 *    AT_SYMLINK_NOFOLLOW) resolve the whole path that way to an fd and then act on that fd only (fstat,
 *    fchmodat2/fchownat/utimensat/faccessat with AT_EMPTY_PATH, ftruncate): nothing re-resolves the path.
 * 3. Operations on a name (mkdir, rmdir, unlink, rename, symlink, link, readlink, lstat, the NOFOLLOW variants)
 *    resolve only the parent directory that way (O_PATH | O_DIRECTORY) and pass the final component to the *at call.
 *    That component holds no slash except trailing ones; the creating and removing calls never follow it (they
 *    reject "." and ".." before any lookup), and the looking-up calls get it only when it is a plain name used
 *    with AT_SYMLINK_NOFOLLOW. A final ".", ".." or "x/" that must be looked up goes through rule 2 instead,
 *    because the kernel would walk ".." or follow "x/" outside the scoped lookup.
 * The parent fd pins the directory: renaming it or swapping it for a symlink afterwards changes nothing for the call.
 *
 * Paths deeper than one syscall argument: the kernel refuses a path argument of PATH_MAX (4096) bytes or more, but
 * a FileSystem path may be up to DANAUS_PATH_MAX bytes (fuse-legacy rebuilds it from the names the kernel sent one
 * level at a time). Such a path is opened in pieces, each shorter than PATH_MAX and cut at a slash: the first under
 * rule 1 from the root fd, every next one from the directory the previous piece reached, with RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS. The kernel keeps each next piece beneath its directory, itself beneath the root: a ".." or a
 * symlink there that would climb above the directory its piece starts from (or an absolute symlink) is refused with
 * EXDEV, answered here as ENAMETOOLONG (a kernel cannot take such a path in one argument either). Names, "." and
 * symlinks that stay below resolve as the kernel resolves them. fuse-legacy never sends such a path (the kernel
 * resolves ".." and symlinks itself and sends names), and the TS client folds ".." away before it sends one.
 */
import { errno, fileCalls, openat2, RESOLVE } from "../../../kernel/sys/libc.ts";
import { DANAUS_PATH_MAX, ERRNO, FsError, PATH_MAX } from "../../ipc-router/protocol/index.ts";
import { O } from "../../ipc-router/protocol/linux.ts";
import { cPath, cString, type SplitPath } from "./path.ts";

const SCOPE = RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS;
/** The scope of every piece after the first of a path longer than one syscall argument (see the module comment). */
const PIECE_SCOPE = RESOLVE.BENEATH | RESOLVE.NO_MAGICLINKS;
/** EAGAIN from a scoped lookup means some rename ran during a ".." step; a few retries always get through in practice. */
const EAGAIN_RETRIES = 128;

/** Throws FsError with the calling thread's errno when a libc call failed (negative result); returns the result. */
export function check(result: number | bigint, syscall: string, path?: string): number {
  if (result < 0) throw new FsError(errno(), syscall, path);
  return Number(result);
}

/**
 * Opens `path` below `rootFd` with openat2 under the confinement rule, O_CLOEXEC always. Returns the fd;
 * throws FsError with the kernel's errno (ENOENT, ENOTDIR, ELOOP, EEXIST, EISDIR, EACCES, ENAMETOOLONG, ...).
 */
export function openInRoot(rootFd: number, path: string, flags: number, mode: number, syscall: string): number {
  checkLength(path, syscall);
  const cpath = cPath(path, syscall);
  if (cpath.length <= PATH_MAX) return openScoped(rootFd, cpath, flags, mode, SCOPE, syscall, path);
  const pieces = pathPieces(path, syscall);
  let dirFd = rootFd;
  try {
    for (let i = 0; i < pieces.length; i++) {
      const last = i === pieces.length - 1;
      const fd = openScoped(dirFd, cString(pieces[i]!, syscall, path), last ? flags : O.PATH | O.DIRECTORY, last ? mode : 0, i === 0 ? SCOPE : PIECE_SCOPE, syscall, path);
      if (dirFd !== rootFd) closeQuietly(dirFd);
      dirFd = fd;
    }
    return dirFd;
  } catch (error) {
    if (dirFd !== rootFd) closeQuietly(dirFd);
    if (error instanceof FsError && error.errno === ERRNO.EXDEV) throw new FsError(ERRNO.ENAMETOOLONG, syscall, path);
    throw error;
  }
}

/** ENAMETOOLONG for a path of DANAUS_PATH_MAX bytes or more (the FileSystem contract's bound). */
function checkLength(path: string, syscall: string): void {
  if (path.length >= DANAUS_PATH_MAX) throw new FsError(ERRNO.ENAMETOOLONG, syscall, path);
}

/**
 * `path` (PATH_MAX bytes or longer) cut at slashes into pieces the kernel takes as one argument each (shorter than
 * PATH_MAX): the first keeps its leading slash, the later ones lose theirs (they are relative to the previous piece's
 * directory); an empty last piece (the path ended in slashes) becomes ".". ENAMETOOLONG when no slash leaves a piece
 * short enough (a single name that long is too long anyway).
 */
export function pathPieces(path: string, syscall: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (path.length - start >= PATH_MAX) {
    const cut = path.lastIndexOf("/", start + PATH_MAX - 1);
    if (cut <= start) throw new FsError(ERRNO.ENAMETOOLONG, syscall, path);
    pieces.push(path.slice(start, cut));
    start = cut + 1;
    while (path.charCodeAt(start) === 0x2f) start++;
  }
  pieces.push(start === path.length ? "." : path.slice(start));
  return pieces;
}

/** One openat2 of `cpath` below `dirFd` in `scope`, retried on EAGAIN (a rename raced a ".." step). */
function openScoped(dirFd: number, cpath: Buffer, flags: number, mode: number, scope: number, syscall: string, path: string): number {
  for (let attempt = 0; ; attempt++) {
    const fd = openat2(dirFd, cpath, flags | O.CLOEXEC, mode, scope);
    if (fd >= 0) return fd;
    const code = errno();
    if (code !== ERRNO.EAGAIN || attempt >= EAGAIN_RETRIES) throw new FsError(code, syscall, path);
  }
}

/** Closes an fd this module opened; a failure here cannot be acted on and is ignored. */
export function closeQuietly(fd: number): void {
  fileCalls.close(fd);
}

/**
 * Runs `body` with an fd of the directory holding `split`'s final name (the root fd itself when the parent spells
 * the root) and that name as a C string; closes the parent afterwards. Throws FsError from resolving the parent
 * (ENOENT, ENOTDIR, ELOOP, EACCES) or from `body`.
 */
export function withParent<T>(rootFd: number, split: SplitPath, syscall: string, path: string, body: (dirFd: number, name: Buffer) => T): T {
  checkLength(path, syscall);
  const name = cString(split.name, syscall, path);
  if (split.parent === null) return body(rootFd, name);
  const dirFd = openInRoot(rootFd, split.parent, O.PATH | O.DIRECTORY, 0, syscall);
  try {
    return body(dirFd, name);
  } finally {
    closeQuietly(dirFd);
  }
}

/** Runs `body` with an O_PATH fd of the object `path` resolves to (`flags` may add O_NOFOLLOW); closes it afterwards. */
export function withResolved<T>(rootFd: number, path: string, flags: number, syscall: string, body: (fd: number) => T): T {
  const fd = openInRoot(rootFd, path, O.PATH | flags, 0, syscall);
  try {
    return body(fd);
  } finally {
    closeQuietly(fd);
  }
}
