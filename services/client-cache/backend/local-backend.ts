/** @module local-backend — the `local` backend: a host directory served as a FileSystem, every lookup confined to it. */
import { mkdirSync } from "node:fs";
import { AT, errno, fchmodat2, fileCalls, openat2, syscall } from "../../../kernel/sys/libc.ts";
import {
  decodeStat,
  decodeStatfs,
  ERRNO,
  FsError,
  mknodNode,
  STAT,
  STATFS,
  writeInt64,
  type Dirent,
  type FileSystem,
  type Stat,
  type Statfs,
  type Timespec,
} from "../../../kernel/ipc/protocol/index.ts";
import { F_GETFL, F_OK, O, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, SYS_FCNTL } from "../../../kernel/ipc/protocol/linux.ts";
import { cString, EMPTY_PATH, splitPath } from "./path.ts";
import { readDirectoryBatch } from "./readdir.ts";
import { check, closeQuietly, openInRoot, withParent, withResolved } from "./resolve.ts";

// Per-thread scratch space: every call is synchronous, so one of each is enough.
const statBytes = new Uint8Array(STAT.size);
const statView = new DataView(statBytes.buffer);
const statfsBytes = new Uint8Array(STATFS.size);
const statfsView = new DataView(statfsBytes.buffer);
const times = new Uint8Array(32);
const timesView = new DataView(times.buffer);
/** Byte offset of st_mode in the kernel's struct stat (the STAT layout). */
const ST_MODE = STAT.offsets.st_mode;

/** The S_IFMT type of open fd `fd` (fstat, reading only st_mode). */
function fileType(fd: number, path?: string): number {
  check(fileCalls.fstat(fd, statBytes), "open", path);
  return statView.getUint32(ST_MODE, true) & S_IFMT;
}

/** PATH_MAX: no symlink target is longer. */
const linkTarget = Buffer.alloc(4096);

/**
 * A host directory as a filesystem instance. Every path is resolved by the kernel with the directory as its root
 * (see the confinement rule in `resolve.ts`): no "..", absolute or escaping symlink, nor a concurrent rename,
 * reaches anything outside it. Handles are the kernel's fds (O_CLOEXEC), valid in every thread of the process, so a
 * Worker may construct its own LocalBackend over the same root and use handles another thread opened. Handles are
 * not checked for ownership: the caller (the ipc-router's open-file table) must only pass handles this backend
 * returned. Methods are synchronous and throw {@link FsError} with the kernel's errno.
 */
export class LocalBackend implements FileSystem {
  /** The O_PATH fd of the root directory; every lookup starts here. -1 once disposed (every lookup then fails EBADF). */
  private rootFd: number;

  /**
   * Serves `root`, creating it (mode 0700, parents as needed) when missing. Throws FsError when it cannot be
   * opened as a directory (ENOTDIR, EACCES, ENOENT).
   */
  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const fd = openat2(AT.FDCWD, cString(root, "open"), O.PATH | O.DIRECTORY | O.CLOEXEC, 0, 0);
    this.rootFd = check(fd, "open", root);
  }

  /** Same as `new LocalBackend(root)`. */
  static create(root: string): LocalBackend {
    return new LocalBackend(root);
  }

  /** Closes the root fd; handles already open stay valid until closed, every path call afterwards fails with EBADF. */
  dispose(): void {
    if (this.rootFd < 0) return;
    fileCalls.close(this.rootFd);
    // Never keep a closed fd number: a later open reusing it would become the root of every lookup.
    this.rootFd = -1;
  }

  /** Disposes the backend (for `using`). */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * open(2) under the root. Flags are Linux's (O_CLOEXEC is always added); O_PATH is refused with EINVAL. EEXIST,
   * ENOENT, ENOTDIR, EISDIR, ELOOP (O_NOFOLLOW on a symlink, symlink loops), EACCES, ENAMETOOLONG. Never waits: a
   * FIFO is opened as an O_PATH node (see {@link fifoNode}), a socket answers ENXIO, a device node EACCES (`nodev`).
   */
  open(path: string, flags: number, mode: number): number {
    if (flags & O.PATH) throw new FsError(ERRNO.EINVAL, "open", path);
    const creates = (flags & O.CREAT) !== 0 || (flags & O.TMPFILE) === O.TMPFILE;
    // Only an existing node can be special: O_EXCL creates, and O_DIRECTORY refuses anything but a directory at once.
    if (!(creates && (flags & O.EXCL) !== 0) && (flags & O.DIRECTORY) === 0) {
      const node = this.specialNode(path, flags);
      if (node >= 0) return node;
    }
    const fd = openInRoot(this.rootFd, path, flags | O.NOCTTY, creates ? mode & 0o7777 : 0, "open");
    // The name may have been replaced between the look and the open: never keep a device or a pipe end as a handle.
    const type = fileType(fd, path);
    if (type === S_IFREG || type === S_IFDIR) return fd;
    closeQuietly(fd);
    if (type === S_IFIFO) return openInRoot(this.rootFd, path, O.PATH | (flags & O.NOFOLLOW), 0, "open");
    throw new FsError(type === S_IFSOCK ? ERRNO.ENXIO : ERRNO.EACCES, "open", path);
  }

  /**
   * The O_PATH handle for an open of `path` when it names a FIFO, -1 for a regular file or directory (or when the
   * look fails: the open itself then reports why). ENXIO for a socket and EACCES for a device, as open(2) on a
   * `nodev` mount answers. The look is a confined O_PATH open, which for a FIFO already is the node to hand out.
   */
  private specialNode(path: string, flags: number): number {
    const split = splitPath(path);
    // Fast path: a plain name in the root (nothing to escape through) is looked at with one fstatat.
    if (split.parent === null && split.plain) {
      if (fileCalls.fstatat(this.rootFd, cString(split.name, "open", path), statBytes, AT.SYMLINK_NOFOLLOW) < 0) return -1;
      const type = statView.getUint32(ST_MODE, true) & S_IFMT;
      if (type === S_IFREG || type === S_IFDIR) return -1;
    }
    let node: number;
    try {
      node = openInRoot(this.rootFd, path, O.PATH | (flags & O.NOFOLLOW), 0, "open");
    } catch (error) {
      if (error instanceof FsError) return -1;
      throw error;
    }
    const type = fileType(node, path);
    if (type === S_IFIFO) return node;
    closeQuietly(node);
    if (type === S_IFREG || type === S_IFDIR || type === S_IFLNK) return -1;
    throw new FsError(type === S_IFSOCK ? ERRNO.ENXIO : ERRNO.EACCES, "open", path);
  }

  /** The handle itself when it is a FIFO opened by {@link open} (an O_PATH fd), -1 for any other handle. EBADF. */
  fifoNode(fd: number): number {
    const status = syscall(SYS_FCNTL, fd, F_GETFL);
    if (status < 0 || fd === this.rootFd) throw new FsError(ERRNO.EBADF, "open");
    if ((status & O.PATH) === 0) return -1;
    if (fileType(fd) !== S_IFIFO) throw new FsError(ERRNO.EBADF, "open");
    return fd;
  }

  /**
   * close(2). EBADF for a closed handle, the root fd or any O_PATH fd other than a FIFO node from {@link open} (none of
   * them is a handle this backend gave out).
   */
  close(fd: number): void {
    const status = syscall(SYS_FCNTL, fd, F_GETFL);
    if (status < 0 || fd === this.rootFd) throw new FsError(ERRNO.EBADF, "close");
    if ((status & O.PATH) !== 0) this.fifoNode(fd);
    check(fileCalls.close(fd), "close");
  }

  /** pread(2). EBADF, EISDIR, EINVAL (negative offset). */
  pread(fd: number, into: Uint8Array, offset: number): number {
    return check(fileCalls.pread64(fd, into, into.length, offset), "pread");
  }

  /** pwrite(2); Linux appends for O_APPEND handles whatever the offset. EBADF, EFBIG, ENOSPC, EINVAL. */
  pwrite(fd: number, data: Uint8Array, offset: number): number {
    return check(fileCalls.pwrite64(fd, data, data.length, offset), "pwrite");
  }

  /** read(2) at the handle's position. EBADF, EISDIR. */
  read(fd: number, into: Uint8Array): number {
    return check(fileCalls.read(fd, into, into.length), "read");
  }

  /** write(2) at the handle's position (the end for O_APPEND). EBADF, EFBIG, ENOSPC. */
  write(fd: number, data: Uint8Array): number {
    return check(fileCalls.write(fd, data, data.length), "write");
  }

  /** lseek(2). EINVAL (negative result, bad whence), EBADF. */
  lseek(fd: number, offset: number, whence: number): number {
    return check(fileCalls.lseek64(fd, offset, whence), "lseek");
  }

  /** fstat(2). EBADF. */
  fstat(fd: number): Stat {
    check(fileCalls.fstat(fd, statBytes), "fstat");
    return decodeStat(statView, 0);
  }

  /** stat(2), following symlinks inside the root. ENOENT, ENOTDIR, ELOOP, EACCES. */
  stat(path: string): Stat {
    const split = splitPath(path);
    // Fast path: a plain name in the root needs no openat2 unless it turns out to be a symlink.
    if (split.parent === null && split.plain) {
      check(fileCalls.fstatat(this.rootFd, cString(split.name, "stat", path), statBytes, AT.SYMLINK_NOFOLLOW), "stat", path);
      const stat = decodeStat(statView, 0);
      if ((stat.st_mode & S_IFMT) !== S_IFLNK) return stat;
    }
    return withResolved(this.rootFd, path, 0, "stat", (fd) => {
      check(fileCalls.fstat(fd, statBytes), "stat", path);
      return decodeStat(statView, 0);
    });
  }

  /** lstat(2): a final symlink itself. ENOENT, ENOTDIR, ELOOP, EACCES. */
  lstat(path: string): Stat {
    this.onName(path, "lstat", (dirFd, name, flags) => fileCalls.fstatat(dirFd, name, statBytes, flags));
    return decodeStat(statView, 0);
  }

  /** ftruncate(2). EINVAL (negative length, handle not open for writing, not a regular file), EBADF, EFBIG. */
  ftruncate(fd: number, length: number): void {
    check(fileCalls.ftruncate64(fd, length), "ftruncate");
  }

  /** truncate(2), following symlinks: opens the file for writing and truncates that fd. EISDIR, ENOENT, EACCES, EINVAL. */
  truncate(path: string, length: number): void {
    const fd = openInRoot(this.rootFd, path, O.WRONLY | O.NONBLOCK | O.NOCTTY, 0, "truncate");
    try {
      check(fileCalls.ftruncate64(fd, length), "truncate", path);
    } finally {
      closeQuietly(fd);
    }
  }

  /** fsync(2). EBADF, EIO. */
  fsync(fd: number): void {
    check(fileCalls.fsync(fd), "fsync");
  }

  /** fdatasync(2). EBADF, EIO. */
  fdatasync(fd: number): void {
    check(fileCalls.fdatasync(fd), "fdatasync");
  }

  /**
   * mkdir(2). The mode is filtered by the process umask, which in a service process is 0 (the caller's umask was
   * applied before the request). EEXIST (also for "/", "." and ".."), ENOENT, ENOTDIR.
   */
  mkdir(path: string, mode: number): void {
    const split = splitPath(path);
    withParent(this.rootFd, split, "mkdir", path, (dirFd, name) => check(fileCalls.mkdirat(dirFd, name, mode & 0o7777), "mkdir", path));
  }

  /**
   * mknodat(2) of a FIFO, socket, empty regular file or device numbered `rdev` (mode filtered by the process umask, as
   * mkdir). The host kernel decides whether this process may make a device: EPERM without CAP_MKNOD (a tenant service
   * running as its own user). EINVAL (other types, see `mknodNode`), EPERM (S_IFDIR), EEXIST (also for "/", "." and
   * ".."), ENOENT, ENOTDIR.
   */
  mknod(path: string, mode: number, rdev: number): void {
    const node = mknodNode(mode, rdev, path);
    const split = splitPath(path);
    withParent(this.rootFd, split, "mknod", path, (dirFd, name) =>
      check(fileCalls.mknodat(dirFd, name, node.type | (mode & 0o7777), node.rdev), "mknod", path),
    );
  }

  /** rmdir(2). ENOTEMPTY (also ".."), ENOTDIR, ENOENT, EINVAL ("."), EBUSY (the root). */
  rmdir(path: string): void {
    const split = splitPath(path);
    if (split.isRoot) throw new FsError(ERRNO.EBUSY, "rmdir", path);
    withParent(this.rootFd, split, "rmdir", path, (dirFd, name) => check(fileCalls.unlinkat(dirFd, name, AT.REMOVEDIR), "rmdir", path));
  }

  /** unlink(2); a final symlink is removed, not its target. EISDIR, ENOENT, ENOTDIR. */
  unlink(path: string): void {
    const split = splitPath(path);
    withParent(this.rootFd, split, "unlink", path, (dirFd, name) => check(fileCalls.unlinkat(dirFd, name, 0), "unlink", path));
  }

  /**
   * renameat2(2) within the root; flags RENAME_NOREPLACE 1, RENAME_EXCHANGE 2. EEXIST, ENOTEMPTY, EISDIR, ENOTDIR,
   * EINVAL (into its own subdirectory, unknown flags), EBUSY (the root, "." or ".."), ENOENT.
   */
  rename(from: string, to: string, flags: number): void {
    const source = splitPath(from);
    const target = splitPath(to);
    withParent(this.rootFd, source, "rename", from, (fromDir, fromName) =>
      withParent(this.rootFd, target, "rename", to, (toDir, toName) =>
        check(fileCalls.renameat2(fromDir, fromName, toDir, toName, flags >>> 0), "rename", from),
      ),
    );
  }

  /**
   * One batch of entries of the open directory `fd` after `cookie` (see `readdir.ts`), of about `maxBytes` (at most
   * 64 KiB of records); empty at the end. EBADF, ENOTDIR, EINVAL (bad cookie).
   */
  readdir(fd: number, cookie: number, maxBytes?: number): Dirent[] {
    return readDirectoryBatch(fd, cookie, maxBytes);
  }

  /** symlink(2): `path` holds `target` verbatim (never resolved here). EEXIST, ENOENT, ENOTDIR, ENAMETOOLONG. */
  symlink(target: string, path: string): void {
    const ctarget = cString(target, "symlink", path);
    const split = splitPath(path);
    withParent(this.rootFd, split, "symlink", path, (dirFd, name) => check(fileCalls.symlinkat(ctarget, dirFd, name), "symlink", path));
  }

  /** readlink(2): the stored target. EINVAL (not a symlink), ENOENT, ENOTDIR. */
  readlink(path: string): string {
    const split = splitPath(path);
    if (!split.plain) {
      // ".", ".." and "x/" name directories (or fail to resolve): never a symlink.
      withResolved(this.rootFd, path, 0, "readlink", () => undefined);
      throw new FsError(ERRNO.EINVAL, "readlink", path);
    }
    const length = withParent(this.rootFd, split, "readlink", path, (dirFd, name) =>
      check(fileCalls.readlinkat(dirFd, name, linkTarget, linkTarget.length), "readlink", path),
    );
    return linkTarget.toString("latin1", 0, length); // a byte string (names.ts)
  }

  /** link(2): `path` becomes another name of `existing` (a symlink is linked itself). EEXIST, EPERM (directories), ENOENT, EXDEV. */
  link(existing: string, path: string): void {
    const source = splitPath(existing);
    if (!source.plain) {
      // ".", ".." and "x/" can only name directories, which cannot be linked.
      withResolved(this.rootFd, existing, 0, "link", () => undefined);
      throw new FsError(ERRNO.EPERM, "link", existing);
    }
    const target = splitPath(path);
    withParent(this.rootFd, source, "link", existing, (fromDir, fromName) =>
      withParent(this.rootFd, target, "link", path, (toDir, toName) =>
        check(fileCalls.linkat(fromDir, fromName, toDir, toName, 0), "link", path),
      ),
    );
  }

  /**
   * chmod(2), following symlinks inside the root: fchmodat2(fd, "", AT_EMPTY_PATH) on the resolved O_PATH fd
   * (before Linux 6.6, chmod of that fd's /proc/self/fd link, which names the same inode). ENOENT, EPERM, ELOOP.
   */
  chmod(path: string, mode: number): void {
    withResolved(this.rootFd, path, 0, "chmod", (fd) => {
      if (fchmodat2(fd, EMPTY_PATH, mode & 0o7777, AT.EMPTY_PATH) === 0) return;
      const code = errno();
      if (code !== ERRNO.ENOSYS) throw new FsError(code, "chmod", path);
      check(fileCalls.fchmodat(AT.FDCWD, cString(`/proc/self/fd/${fd}`, "chmod", path), mode & 0o7777, 0), "chmod", path);
    });
  }

  /** fchownat(2); uid/gid -1 keep; flags AT_SYMLINK_NOFOLLOW changes a final symlink itself. EPERM, ENOENT, EINVAL (flags). */
  chown(path: string, uid: number, gid: number, flags: number): void {
    this.onTarget(path, "chown", flags, (fd, name, atFlags) => fileCalls.fchownat(fd, name, uid >>> 0, gid >>> 0, atFlags));
  }

  /**
   * utimensat(2) with explicit times or the UTIME_NOW / UTIME_OMIT nsec values; flags AT_SYMLINK_NOFOLLOW.
   * EPERM/EACCES (not the owner), ENOENT, EINVAL (nsec out of range, flags).
   */
  utimens(path: string, atime: Timespec, mtime: Timespec, flags: number): void {
    writeInt64(timesView, 0, atime.sec);
    writeInt64(timesView, 8, atime.nsec);
    writeInt64(timesView, 16, mtime.sec);
    writeInt64(timesView, 24, mtime.nsec);
    this.onTarget(path, "utimens", flags, (fd, name, atFlags) => fileCalls.utimensat(fd, name, times, atFlags));
  }

  /** access(2) for the service's real uid/gid, following symlinks. ENOENT, EACCES, ENOTDIR, EROFS, EINVAL (mode). */
  access(path: string, mode: number): void {
    withResolved(this.rootFd, path, 0, "access", (fd) => {
      if (mode !== F_OK) check(fileCalls.faccessat(fd, EMPTY_PATH, mode, AT.EMPTY_PATH), "access", path);
    });
  }

  /** fstatfs(2) of the filesystem holding `path` (following symlinks). ENOENT, ENOTDIR. */
  statfs(path: string): Statfs {
    withResolved(this.rootFd, path, 0, "statfs", (fd) => check(fileCalls.fstatfs(fd, statfsBytes), "statfs", path));
    return decodeStatfs(statfsView, 0);
  }

  /**
   * Runs an *at call on the name `path` without following a final symlink: a plain final name goes to the call
   * with its parent fd and AT_SYMLINK_NOFOLLOW; ".", ".." and "x/" are resolved by openat2 (O_NOFOLLOW; a trailing
   * slash still follows, as in Linux) and the call gets that fd with AT_EMPTY_PATH.
   */
  private onName(path: string, syscall: string, call: (dirFd: number, name: Buffer, flags: number) => number): void {
    const split = splitPath(path);
    if (split.plain) {
      withParent(this.rootFd, split, syscall, path, (dirFd, name) => check(call(dirFd, name, AT.SYMLINK_NOFOLLOW), syscall, path));
    } else {
      withResolved(this.rootFd, path, O.NOFOLLOW, syscall, (fd) => check(call(fd, EMPTY_PATH, AT.EMPTY_PATH | AT.SYMLINK_NOFOLLOW), syscall, path));
    }
  }

  /** Runs an *at call on what `path` names: the final symlink itself with AT_SYMLINK_NOFOLLOW in `flags`, else its target. */
  private onTarget(path: string, syscall: string, flags: number, call: (fd: number, name: Buffer, flags: number) => number): void {
    if ((flags & ~AT.SYMLINK_NOFOLLOW) !== 0) throw new FsError(ERRNO.EINVAL, syscall, path);
    if (flags & AT.SYMLINK_NOFOLLOW) return this.onName(path, syscall, call);
    withResolved(this.rootFd, path, 0, syscall, (fd) => check(call(fd, EMPTY_PATH, AT.EMPTY_PATH), syscall, path));
  }
}
