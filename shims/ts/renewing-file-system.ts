/**
 * @module renewing-file-system — what a serving Worker serves in its own process: the tenant's mount through the
 * shared-memory client, following the registration the main thread renews after the tenant service restarted (see
 * grant-board.ts). Path operations go to the newest service (one that failed with ENOTCONN is tried once more when a
 * newer registration is posted meanwhile); a handle opened through an earlier service answers ESTALE, since its
 * descriptor died with that service.
 */
import type { Dirent, FileSystem, ReadOnlyFileSystem, Stat, Statfs, Timespec } from "../../kernel/ipc/protocol/index.ts";
import { ERRNO, FsError } from "../../kernel/ipc/protocol/index.ts";
import { Connection, notConnected } from "./connection.ts";
import { RingFileSystem, type RingFileSystemOptions } from "./ring-fs.ts";
import { GrantBoard } from "./grant-board.ts";
import { WideHandleNames, type HandleNames } from "./handle-names.ts";

const isNotConnected = (error: unknown): boolean => error instanceof FsError && error.errno === ERRNO.ENOTCONN;

/** The mount `mountPath` for serving Worker `index`, through the grants posted on `board`. */
export class RenewingFileSystem implements FileSystem {
  private readonly board: GrantBoard;
  /** The board's buffer: instances over the same one reach the same service through the same registration. */
  private readonly boardBuffer: SharedArrayBuffer;
  private generation = 0;
  private connection: Connection | null = null;
  private fs: RingFileSystem | null = null;

  private readonly names: HandleNames;

  /**
   * `names`: how the service's handles are named to the caller (see handle-names.ts); the rest goes to the
   * {@link RingFileSystem} of each registration (a service reaching another: FIFO nodes handed on, bulk data by reference).
   */
  constructor(
    board: SharedArrayBuffer,
    private readonly mountPath: string,
    private readonly index: number,
    private readonly options: { readonly names?: HandleNames } & RingFileSystemOptions = {},
  ) {
    this.names = options.names ?? WideHandleNames;
    this.boardBuffer = board;
    this.board = GrantBoard.attach(board);
    this.renew();
  }

  /** Switches to the grants posted last when they are newer than the ones in use; true when it switched. */
  private renew(): boolean {
    if (this.board.generation === this.generation) return false;
    const posted = this.board.read();
    this.fs?.forgetNodes();
    this.connection?.close();
    this.connection = null;
    this.fs = null;
    this.generation = posted.generation;
    const grant = posted.grants[this.index];
    const mount = grant?.mounts.find((m) => m.path === this.mountPath);
    if (grant !== undefined && mount !== undefined) {
      this.connection = Connection.fromGrant(grant);
      this.fs = new RingFileSystem(this.connection, mount.id, this.options);
    }
    return true;
  }

  /** The filesystem of the newest registration; ENOTCONN while there is none that serves the mount. */
  private current(syscall: string): RingFileSystem {
    this.renew();
    if (this.fs === null) throw notConnected(syscall);
    return this.fs;
  }

  /** A path operation: on the newest service, once more when it failed with ENOTCONN and a newer one was posted. */
  private onPath<T>(syscall: string, call: (fs: RingFileSystem) => T): T {
    try {
      return call(this.current(syscall));
    } catch (error) {
      if (!isNotConnected(error) || !this.renew()) throw error;
      return call(this.current(syscall));
    }
  }

  /** A handle operation: ESTALE when the handle was opened through an earlier service. */
  private onHandle<T>(fd: number, syscall: string, call: (fs: RingFileSystem, handle: number) => T): T {
    const fs = this.current(syscall);
    const named = this.names.resolve(fd);
    if (named === null) throw new FsError(ERRNO.EBADF, syscall);
    if (named.generation !== this.generation) throw new FsError(ERRNO.ESTALE, syscall);
    return call(fs, named.handle);
  }

  open(path: string, flags: number, mode: number): number {
    return this.onPath("open", (fs) => {
      const handle = fs.open(path, flags, mode);
      try {
        return this.names.name(this.generation, handle);
      } catch (error) {
        fs.close(handle);
        throw error;
      }
    });
  }
  /** The ring client's answer (-1: it carries a FIFO's bytes itself; the kernel serves FIFOs on a FUSE mount anyway). */
  fifoNode(fd: number): number {
    return this.onHandle(fd, "open", (fs, h) => fs.fifoNode(h));
  }
  close(fd: number): void {
    const named = this.names.resolve(fd);
    if (named === null) throw new FsError(ERRNO.EBADF, "close");
    try {
      // A handle of a service that is gone has nothing left to release.
      if (named.generation === this.board.generation) this.onHandle(fd, "close", (fs, h) => fs.close(h));
    } finally {
      this.names.release(fd);
    }
  }
  pread(fd: number, into: Uint8Array, offset: number): number {
    return this.onHandle(fd, "pread", (fs, h) => fs.pread(h, into, offset));
  }
  pwrite(fd: number, data: Uint8Array, offset: number): number {
    return this.onHandle(fd, "pwrite", (fs, h) => fs.pwrite(h, data, offset));
  }
  read(fd: number, into: Uint8Array): number {
    return this.onHandle(fd, "read", (fs, h) => fs.read(h, into));
  }
  write(fd: number, data: Uint8Array): number {
    return this.onHandle(fd, "write", (fs, h) => fs.write(h, data));
  }
  lseek(fd: number, offset: number, whence: number): number {
    return this.onHandle(fd, "lseek", (fs, h) => fs.lseek(h, offset, whence));
  }
  fstat(fd: number): Stat {
    return this.onHandle(fd, "fstat", (fs, h) => fs.fstat(h));
  }
  ftruncate(fd: number, length: number): void {
    this.onHandle(fd, "ftruncate", (fs, h) => fs.ftruncate(h, length));
  }
  fsync(fd: number): void {
    this.onHandle(fd, "fsync", (fs, h) => fs.fsync(h));
  }
  fdatasync(fd: number): void {
    this.onHandle(fd, "fdatasync", (fs, h) => fs.fdatasync(h));
  }
  readdir(fd: number, cookie: number, maxBytes?: number): Dirent[] {
    return this.onHandle(fd, "readdir", (fs, h) => fs.readdir(h, cookie, maxBytes));
  }
  /**
   * Copies inside the service when `source` is an instance over the same registration (another mount of the same
   * service, as a union's branches are): one request per 16 MiB, the bytes never leave that process. Undefined for
   * any other source.
   */
  copyFrom(fd: number, offset: number, source: ReadOnlyFileSystem, input: number, inOffset: number, count: number): number | undefined {
    if (!(source instanceof RenewingFileSystem) || source.boardBuffer !== this.boardBuffer) return undefined;
    const from = source.names.resolve(input);
    if (from === null) throw new FsError(ERRNO.EBADF, "copy_file_range");
    return this.onHandle(fd, "copy_file_range", (fs, out) => {
      // Both handles must come from the registration in use: one of a service that is gone names nothing there.
      if (from.generation !== this.generation) throw new FsError(ERRNO.ESTALE, "copy_file_range");
      return fs.copyRange(out, offset, from.handle, inOffset, count);
    });
  }
  stat(path: string): Stat {
    return this.onPath("stat", (fs) => fs.stat(path));
  }
  lstat(path: string): Stat {
    return this.onPath("lstat", (fs) => fs.lstat(path));
  }
  truncate(path: string, length: number): void {
    this.onPath("truncate", (fs) => fs.truncate(path, length));
  }
  mkdir(path: string, mode: number): void {
    this.onPath("mkdir", (fs) => fs.mkdir(path, mode));
  }
  mknod(path: string, mode: number, rdev: number): void {
    this.onPath("mknod", (fs) => fs.mknod(path, mode, rdev));
  }
  rmdir(path: string): void {
    this.onPath("rmdir", (fs) => fs.rmdir(path));
  }
  unlink(path: string): void {
    this.onPath("unlink", (fs) => fs.unlink(path));
  }
  rename(from: string, to: string, flags: number): void {
    this.onPath("rename", (fs) => fs.rename(from, to, flags));
  }
  symlink(target: string, path: string): void {
    this.onPath("symlink", (fs) => fs.symlink(target, path));
  }
  readlink(path: string): string {
    return this.onPath("readlink", (fs) => fs.readlink(path));
  }
  link(existing: string, path: string): void {
    this.onPath("link", (fs) => fs.link(existing, path));
  }
  chmod(path: string, mode: number): void {
    this.onPath("chmod", (fs) => fs.chmod(path, mode));
  }
  chown(path: string, uid: number, gid: number, flags: number): void {
    this.onPath("chown", (fs) => fs.chown(path, uid, gid, flags));
  }
  utimens(path: string, atime: Timespec, mtime: Timespec, flags: number): void {
    this.onPath("utimens", (fs) => fs.utimens(path, atime, mtime, flags));
  }
  access(path: string, mode: number): void {
    this.onPath("access", (fs) => fs.access(path, mode));
  }
  statfs(path: string): Statfs {
    return this.onPath("statfs", (fs) => fs.statfs(path));
  }
}
