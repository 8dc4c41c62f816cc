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
 * Paths deeper than one syscall argument: the kernel refuses a path argument of PATH_MAX (4096) bytes or more, but a
 * FileSystem path has no bound (fuse-legacy rebuilds it from the names the kernel sent one level at a time). Such a
 * path is opened in pieces, each shorter than PATH_MAX and cut at a slash: the first under rule 1 from the root fd,
 * every next one from the directory the previous piece reached, with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS. The
 * kernel keeps each next piece beneath its directory, itself beneath the root. A ".." or a symlink in a later piece
 * that climbs above the directory its piece starts from (or an absolute symlink) is refused there with EXDEV; the path
 * is then walked one name at a time instead ({@link openWalking}): ".." drops the last directory the walk went through
 * and symlinks are read and spliced in by the walk itself, so the kernel only ever gets plain names, each beneath a
 * directory beneath the root. fuse-legacy never sends such a path (the kernel resolves ".." and symlinks itself and
 * sends names); the TS client's deep relative paths can.
 */
import { errno, fileCalls, openat2, RESOLVE } from "../../../kernel/sys/libc.ts";
import { ERRNO, FsError, isByteString, PATH_MAX, STAT } from "../../../kernel/ipc/protocol/index.ts";
import { O, S_IFDIR, S_IFLNK, S_IFMT } from "../../../kernel/ipc/protocol/linux.ts";
import { cPath, cString, EMPTY_PATH, type SplitPath } from "./path.ts";

const SCOPE = RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS;
/** The scope of every piece after the first of a path longer than one syscall argument (see the module comment). */
const PIECE_SCOPE = RESOLVE.BENEATH | RESOLVE.NO_MAGICLINKS;
/** Most symlinks one lookup follows before failing with ELOOP (MAXSYMLINKS). */
const MAX_SYMLINKS = 40;
/** "." for the walk's final open of the directory it reached. */
const DOT = Buffer.from(".\0");
// Per-thread scratch space of the walk: every call is synchronous.
const statBytes = new Uint8Array(STAT.size);
const statView = new DataView(statBytes.buffer);
/** PATH_MAX: no symlink target is longer. */
const linkTarget = Buffer.alloc(PATH_MAX);
/** One piece of a long path, NUL included (see {@link pieceBytes}). */
const pieceScratch = Buffer.alloc(PATH_MAX);
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
  if (path.length < PATH_MAX) return openScoped(rootFd, cPath(path, syscall), flags, mode, SCOPE, syscall, path);
  if (path.includes("\0") || !isByteString(path)) throw new FsError(ERRNO.EINVAL, syscall, path);
  try {
    return openPieces(rootFd, path, flags, mode, syscall);
  } catch (error) {
    if (!isExdev(error)) throw error;
  }
  try {
    return openWalking(rootFd, path, flags, mode, syscall);
  } catch (error) {
    // Only a rename racing the walk makes a directory it went through climb: as if that name were gone.
    throw isExdev(error) ? new FsError(ERRNO.ENOENT, syscall, path) : error;
  }
}

function isExdev(error: unknown): boolean {
  return error instanceof FsError && error.errno === ERRNO.EXDEV;
}

/**
 * `piece` (a checked byte string shorter than PATH_MAX) NUL-terminated in this thread's scratch, valid until the next
 * call: a deep path is opened for every name a union looks up, and a Buffer per piece would be garbage that only a
 * full collection frees.
 */
function pieceBytes(piece: string): Uint8Array {
  const length = pieceScratch.write(piece, 0, "latin1");
  pieceScratch[length] = 0;
  return pieceScratch.subarray(0, length + 1);
}

/** Opens `path` in the pieces of {@link pathPieces} (one piece for a short path); EXDEV when a later piece climbs. */
function openPieces(rootFd: number, path: string, flags: number, mode: number, syscall: string): number {
  const pieces = pathPieces(path, syscall);
  let dirFd = rootFd;
  try {
    for (let i = 0; i < pieces.length; i++) {
      const last = i === pieces.length - 1;
      const fd = openScoped(dirFd, pieceBytes(pieces[i]!), last ? flags : O.PATH | O.DIRECTORY, last ? mode : 0, i === 0 ? SCOPE : PIECE_SCOPE, syscall, path);
      if (dirFd !== rootFd) closeQuietly(dirFd);
      dirFd = fd;
    }
    return dirFd;
  } catch (error) {
    if (dirFd !== rootFd) closeQuietly(dirFd);
    throw error;
  }
}

/**
 * Opens `path` one name at a time from the root, for a long path whose pieces climb. The walk keeps the names of the
 * directories it went through: ".." drops the last one and reopens what is left from the root (those are real
 * directories, so their pieces never climb); a symlink met on the way, or last when `flags` follow it and its target
 * climbs, is read and its target's names put in front of the rest (an absolute target starts again from the root),
 * at most MAX_SYMLINKS of them (ELOOP). The kernel gets only plain names, each opened with RESOLVE_BENEATH below a
 * directory that is itself below the root, so nothing leaves the root; ".." is the parent the walk came through,
 * which is the kernel's ".." unless a directory on the way is renamed meanwhile.
 */
function openWalking(rootFd: number, path: string, flags: number, mode: number, syscall: string): number {
  const queue = path.split("/").filter((part) => part !== "");
  let trailingSlash = queue.length > 0 && path.endsWith("/");
  const dirs: string[] = [];
  let current = rootFd;
  let links = 0;
  const enter = (fd: number): void => {
    if (current !== rootFd) closeQuietly(current);
    current = fd;
  };
  const reopen = (): void => enter(dirs.length === 0 ? rootFd : openPieces(rootFd, dirs.join("/"), O.PATH | O.DIRECTORY, 0, syscall));
  try {
    for (;;) {
      const name = queue.shift();
      if (name === undefined) return openScoped(current, DOT, flags, mode, PIECE_SCOPE, syscall, path);
      if (name === ".") continue;
      if (name === "..") {
        if (dirs.length > 0) {
          dirs.pop();
          reopen();
        }
        continue;
      }
      const last = queue.length === 0;
      if (last) {
        try {
          return openScoped(current, cString(trailingSlash ? `${name}/` : name, syscall, path), flags, mode, PIECE_SCOPE, syscall, path);
        } catch (error) {
          // The final name is a symlink the open follows, and its target climbs: follow it here.
          if (!isExdev(error)) throw error;
        }
      }
      const fd = openScoped(current, cString(name, syscall, path), O.PATH | O.NOFOLLOW, 0, PIECE_SCOPE, syscall, path);
      const type = typeOf(fd, syscall, path);
      if (type === S_IFDIR && !last) {
        enter(fd);
        dirs.push(name);
        continue;
      }
      let target: string;
      try {
        if (type !== S_IFLNK) throw new FsError(ERRNO.ENOTDIR, syscall, path);
        if (++links > MAX_SYMLINKS) throw new FsError(ERRNO.ELOOP, syscall, path);
        target = linkTarget.toString("latin1", 0, check(fileCalls.readlinkat(fd, EMPTY_PATH, linkTarget, linkTarget.length), syscall, path));
      } finally {
        closeQuietly(fd);
      }
      if (target === "") throw new FsError(ERRNO.ENOENT, syscall, path);
      if (last && target.endsWith("/")) trailingSlash = true;
      queue.unshift(...target.split("/").filter((part) => part !== ""));
      if (target.startsWith("/")) {
        dirs.length = 0;
        reopen();
      }
    }
  } finally {
    if (current !== rootFd) closeQuietly(current);
  }
}

/** The S_IFMT type of `fd` (fstat). */
function typeOf(fd: number, syscall: string, path: string): number {
  check(fileCalls.fstat(fd, statBytes), syscall, path);
  return statView.getUint32(STAT.offsets.st_mode, true) & S_IFMT;
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
function openScoped(dirFd: number, cpath: Uint8Array, flags: number, mode: number, scope: number, syscall: string, path: string): number {
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
