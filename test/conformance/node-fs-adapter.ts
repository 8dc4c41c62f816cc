/**
 * @module test/conformance/node-fs-adapter — a FileSystem over plain `node:fs` on a host directory (a temp dir or a
 * FUSE mount point), used to check the conformance suite against the real kernel. Not confined: ".." and symlinks
 * may leave the directory; only for tests.
 */
import * as nodeFs from "node:fs";
import type { BigIntStats } from "node:fs";
import { AT, errno, fileCalls } from "../../kernel/sys/libc.ts";
import {
  DT,
  ERRNO,
  errnoNumber,
  bytesToName,
  FsError,
  nameFromText,
  nameToBytes,
  mknodNode,
  UTIME_NOW,
  UTIME_OMIT,
  type Dirent,
  type FileSystem,
  type Stat,
  type Statfs,
  type Timespec,
} from "../../kernel/ipc/protocol/index.ts";

const BATCH = 128;
const AT_SYMLINK_NOFOLLOW = 0x100;
const NS_PER_SEC = 1_000_000_000n;

/** Runs a node:fs call, turning its errors into FsError with the same errno. */
function guard<T>(syscall: string, path: string | undefined, call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof FsError) throw error;
    const code = (error as { code?: unknown }).code;
    const errno = typeof code === "string" ? errnoNumber(code) : undefined;
    if (errno === undefined) throw error;
    throw new FsError(errno, syscall, path);
  }
}

/** Whether `path` names a device (following symlinks); false when it cannot be looked at (the open says why). */
function isDevice(path: Buffer): boolean {
  try {
    const st = nodeFs.statSync(path, { throwIfNoEntry: false });
    return st !== undefined && (st.isCharacterDevice() || st.isBlockDevice());
  } catch {
    return false;
  }
}

function splitNs(ns: bigint): [number, number] {
  return [Number(ns / NS_PER_SEC), Number(ns % NS_PER_SEC)];
}

function toStat(st: BigIntStats): Stat {
  const [atimeSec, atimeNsec] = splitNs(st.atimeNs);
  const [mtimeSec, mtimeNsec] = splitNs(st.mtimeNs);
  const [ctimeSec, ctimeNsec] = splitNs(st.ctimeNs);
  return {
    st_dev: Number(st.dev),
    st_ino: Number(st.ino),
    st_nlink: Number(st.nlink),
    st_mode: Number(st.mode),
    st_uid: Number(st.uid),
    st_gid: Number(st.gid),
    st_rdev: Number(st.rdev),
    st_size: Number(st.size),
    st_blksize: Number(st.blksize),
    st_blocks: Number(st.blocks),
    st_atime_sec: atimeSec,
    st_atime_nsec: atimeNsec,
    st_mtime_sec: mtimeSec,
    st_mtime_nsec: mtimeNsec,
    st_ctime_sec: ctimeSec,
    st_ctime_nsec: ctimeNsec,
  };
}

/** The `DT_*` type of what `entry` (a Dirent or lstat result) describes. */
function direntType(entry: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): number {
  if (entry.isFile()) return DT.REG;
  if (entry.isDirectory()) return DT.DIR;
  if (entry.isSymbolicLink()) return DT.LNK;
  if (entry.isFIFO()) return DT.FIFO;
  if (entry.isSocket()) return DT.SOCK;
  if (entry.isCharacterDevice()) return DT.CHR;
  if (entry.isBlockDevice()) return DT.BLK;
  return DT.UNKNOWN;
}

/** True when `path` spells the adapter's root ("", "/", "//"), which may not be removed or renamed (EBUSY, like a mount point). */
function isRoot(path: string): boolean {
  return /^\/*$/.test(path);
}

/**
 * `node:fs` as a FileSystem rooted at `root`. Positions are kept here (node:fs has no lseek): read/write use pread/
 * pwrite at the tracked position; O_APPEND writes let the kernel append and move the position to the new end; a FIFO,
 * socket has no position (read(2)/write(2)). A device is never opened (EACCES, as on a `nodev` mount, which every
 * danaus mount is; on one the kernel refuses it first). mknod goes to libc's mknodat after the interface's check.
 * readdir lists `/proc/self/fd/<fd>` with readdirSync in batches of 128, the cookie being an index. rename refuses
 * flags with EINVAL. The root answers rmdir and rename with EBUSY.
 */
export class NodeFsAdapter implements FileSystem {
  private readonly positions = new Map<number, { position: number; append: boolean; stream: boolean }>();

  /** Serves the existing directory `root`. */
  constructor(readonly root: string) {}

  /** The host path of byte-string `path` (names.ts), as exact bytes for node:fs. */
  private at(path: string): Buffer {
    return nameToBytes(`${nameFromText(this.root)}/${path}`);
  }

  /**
   * The state of a handle this adapter opened and has not closed; EBADF otherwise, without asking the kernel: once
   * closed, the number may already belong to a file another thread of this process opened (the FUSE server's, say).
   */
  private handle(fd: number, syscall: string): { position: number; append: boolean; stream: boolean } {
    const state = this.positions.get(fd);
    if (state === undefined) throw new FsError(ERRNO.EBADF, syscall);
    return state;
  }

  /** open(2) through openSync; a device answers EACCES before it is opened. */
  open(path: string, flags: number, mode: number): number {
    if (isDevice(this.at(path))) throw new FsError(ERRNO.EACCES, "open", path);
    const fd = guard("open", path, () => nodeFs.openSync(this.at(path), flags, mode));
    const st = nodeFs.fstatSync(fd);
    const stream = st.isFIFO() || st.isSocket();
    this.positions.set(fd, { position: 0, append: (flags & nodeFs.constants.O_APPEND) !== 0, stream });
    return fd;
  }

  /** -1: node:fs opens a FIFO as the pipe itself (waiting for its partner in this thread). */
  fifoNode(_fd: number): number {
    return -1;
  }

  /** close(2). */
  close(fd: number): void {
    this.handle(fd, "close");
    guard("close", undefined, () => nodeFs.closeSync(fd));
    this.positions.delete(fd);
  }

  /** pread(2). */
  pread(fd: number, into: Uint8Array, offset: number): number {
    this.handle(fd, "pread");
    if (offset < 0) throw new FsError(ERRNO.EINVAL, "pread");
    return guard("pread", undefined, () => nodeFs.readSync(fd, into, 0, into.length, offset));
  }

  /** pwrite(2) (the kernel appends for O_APPEND handles). */
  pwrite(fd: number, data: Uint8Array, offset: number): number {
    this.handle(fd, "pwrite");
    if (offset < 0) throw new FsError(ERRNO.EINVAL, "pwrite");
    return guard("pwrite", undefined, () => nodeFs.writeSync(fd, data, 0, data.length, offset));
  }

  /** read at the tracked position. */
  read(fd: number, into: Uint8Array): number {
    const state = this.handle(fd, "read");
    const count = guard("read", undefined, () => nodeFs.readSync(fd, into, 0, into.length, state.stream ? null : state.position));
    state.position += count;
    return count;
  }

  /** write at the tracked position, or appended. */
  write(fd: number, data: Uint8Array): number {
    const state = this.handle(fd, "write");
    if (state.stream) return guard("write", undefined, () => nodeFs.writeSync(fd, data, 0, data.length, null));
    if (state.append) {
      const count = guard("write", undefined, () => nodeFs.writeSync(fd, data, 0, data.length, null));
      state.position = Number(nodeFs.fstatSync(fd).size);
      return count;
    }
    const count = guard("write", undefined, () => nodeFs.writeSync(fd, data, 0, data.length, state.position));
    state.position += count;
    return count;
  }

  /** lseek on the tracked position. */
  lseek(fd: number, offset: number, whence: number): number {
    const state = this.handle(fd, "lseek");
    let base: number;
    if (whence === 0) base = 0;
    else if (whence === 1) base = state.position;
    else if (whence === 2) base = guard("lseek", undefined, () => Number(nodeFs.fstatSync(fd).size));
    else throw new FsError(ERRNO.EINVAL, "lseek");
    if (base + offset < 0) throw new FsError(ERRNO.EINVAL, "lseek");
    state.position = base + offset;
    return state.position;
  }

  /** fstat(2). */
  fstat(fd: number): Stat {
    this.handle(fd, "fstat");
    return guard("fstat", undefined, () => toStat(nodeFs.fstatSync(fd, { bigint: true })));
  }

  /** stat(2). */
  stat(path: string): Stat {
    return guard("stat", path, () => toStat(nodeFs.statSync(this.at(path), { bigint: true })));
  }

  /** lstat(2). */
  lstat(path: string): Stat {
    return guard("lstat", path, () => toStat(nodeFs.lstatSync(this.at(path), { bigint: true })));
  }

  /** ftruncate(2). */
  ftruncate(fd: number, length: number): void {
    this.handle(fd, "ftruncate");
    if (length < 0) throw new FsError(ERRNO.EINVAL, "ftruncate");
    guard("ftruncate", undefined, () => nodeFs.ftruncateSync(fd, length));
  }

  /** truncate(2). */
  truncate(path: string, length: number): void {
    if (length < 0) throw new FsError(ERRNO.EINVAL, "truncate", path);
    guard("truncate", path, () => nodeFs.truncateSync(this.at(path), length));
  }

  /** fsync(2). */
  fsync(fd: number): void {
    this.handle(fd, "fsync");
    guard("fsync", undefined, () => nodeFs.fsyncSync(fd));
  }

  /** fdatasync(2). */
  fdatasync(fd: number): void {
    this.handle(fd, "fdatasync");
    guard("fdatasync", undefined, () => nodeFs.fdatasyncSync(fd));
  }

  /** mkdir(2). */
  mkdir(path: string, mode: number): void {
    guard("mkdir", path, () => nodeFs.mkdirSync(this.at(path), mode));
  }

  /** mknodat(2) of a FIFO, socket, empty file or device (see `mknodNode`): the host kernel decides who may. */
  mknod(path: string, mode: number, rdev: number): void {
    const node = mknodNode(mode, rdev, path);
    const cpath = Buffer.concat([this.at(path), Buffer.from([0])]);
    if (fileCalls.mknodat(AT.FDCWD, cpath, node.type | (mode & 0o7777), node.rdev) < 0) throw new FsError(errno(), "mknod", path);
  }

  /** rmdir(2); EBUSY for the root. */
  rmdir(path: string): void {
    if (isRoot(path)) throw new FsError(ERRNO.EBUSY, "rmdir", path);
    guard("rmdir", path, () => nodeFs.rmdirSync(this.at(path)));
  }

  /** unlink(2). */
  unlink(path: string): void {
    guard("unlink", path, () => nodeFs.unlinkSync(this.at(path)));
  }

  /** rename(2); flags are not supported (EINVAL); the root: EBUSY. */
  rename(from: string, to: string, flags: number): void {
    if (flags !== 0) throw new FsError(ERRNO.EINVAL, "rename", from);
    if (isRoot(from) || isRoot(to)) throw new FsError(ERRNO.EBUSY, "rename", from);
    guard("rename", from, () => nodeFs.renameSync(this.at(from), this.at(to)));
  }

  /** Up to 128 entries from index `cookie` of readdirSync on the handle's /proc/self/fd link. */
  readdir(fd: number, cookie: number): Dirent[] {
    this.handle(fd, "readdir");
    return guard("readdir", undefined, () => {
      const dir = `/proc/self/fd/${fd}`;
      // Names as their exact bytes; each entry's type and inode from its lstat.
      const names = nodeFs.readdirSync(dir, { encoding: "buffer" });
      return names.slice(cookie, cookie + BATCH).map((name, i) => {
        const st = nodeFs.lstatSync(Buffer.concat([Buffer.from(`${dir}/`), name]), { bigint: true });
        return { ino: Number(st.ino), next: cookie + i + 1, type: direntType(st), name: bytesToName(name) };
      });
    });
  }

  /** symlink(2). */
  symlink(target: string, path: string): void {
    guard("symlink", path, () => nodeFs.symlinkSync(nameToBytes(target), this.at(path)));
  }

  /** readlink(2). */
  readlink(path: string): string {
    return guard("readlink", path, () => bytesToName(nodeFs.readlinkSync(this.at(path), { encoding: "buffer" })));
  }

  /** link(2). */
  link(existing: string, path: string): void {
    guard("link", path, () => nodeFs.linkSync(this.at(existing), this.at(path)));
  }

  /** chmod(2). */
  chmod(path: string, mode: number): void {
    guard("chmod", path, () => nodeFs.chmodSync(this.at(path), mode));
  }

  /** chown / lchown. */
  chown(path: string, uid: number, gid: number, flags: number): void {
    const call = flags & AT_SYMLINK_NOFOLLOW ? nodeFs.lchownSync : nodeFs.chownSync;
    guard("chown", path, () => call(this.at(path), uid, gid));
  }

  /**
   * utimes / lutimes with seconds as doubles (exact for the values the suite uses); UTIME_OMIT re-applies the
   * current time, UTIME_NOW the clock's.
   */
  utimens(path: string, atime: Timespec, mtime: Timespec, flags: number): void {
    const noFollow = (flags & AT_SYMLINK_NOFOLLOW) !== 0;
    guard("utimens", path, () => {
      const current = (noFollow ? nodeFs.lstatSync : nodeFs.statSync)(this.at(path), { bigint: true });
      const seconds = (time: Timespec, now: bigint): number => {
        if (time.nsec === UTIME_OMIT) return Number(now) / 1e9;
        if (time.nsec === UTIME_NOW) return Date.now() / 1000;
        return time.sec + time.nsec / 1e9;
      };
      const a = seconds(atime, current.atimeNs);
      const m = seconds(mtime, current.mtimeNs);
      (noFollow ? nodeFs.lutimesSync : nodeFs.utimesSync)(this.at(path), a, m);
    });
  }

  /** access(2). */
  access(path: string, mode: number): void {
    guard("access", path, () => nodeFs.accessSync(this.at(path), mode));
  }

  /** statfs(2) through statfsSync (f_fsid, f_namelen, f_flags are not available: 0). */
  statfs(path: string): Statfs {
    return guard("statfs", path, () => {
      const st = nodeFs.statfsSync(this.at(path));
      return {
        f_type: st.type,
        f_bsize: st.bsize,
        f_blocks: st.blocks,
        f_bfree: st.bfree,
        f_bavail: st.bavail,
        f_files: st.files,
        f_ffree: st.ffree,
        f_fsid: [0, 0],
        f_namelen: 0,
        f_frsize: st.bsize,
        f_flags: 0,
      };
    });
  }
}
