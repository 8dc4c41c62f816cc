/**
 * @module client — the danaus client for Bun apps: synchronous POSIX-like calls on paths under the tenant's mounts,
 * over the shared-memory ring. It keeps the library file table (private descriptors with client-side offsets) and
 * the mount table, normalises paths, and reconnects on the next call after the service was restarted.
 */
import { constants } from "node:fs";
import { join } from "node:path";
import { loadHost } from "../../kernel/config/index.ts";
import { routerSocketPath } from "../../services/ipc-router/index.ts";
import { ERRNO, FsError, type Dirent, type Stat, type Statfs, type Timespec } from "../../services/ipc-router/protocol/index.ts";
import { Connection } from "./connection.ts";
import { findMount, normalizePath } from "./paths.ts";
import { RingFileSystem } from "./ring-fs.ts";

/** How to find the tenant's service. */
export interface ConnectOptions {
  /** The router's registration socket. Default: $DANAUS_SOCKET, else derived from `tenant` and `config`. */
  socket?: string;
  /** Tenant name (with `config`, the host config, default $DANAUS_CONFIG or the demo config). */
  tenant?: string;
  config?: string;
  /** Working directory for relative paths (default process.cwd()). */
  cwd?: string;
}

/** First private descriptor: far above the kernel's, so the two never collide. */
const FIRST_FD = 1 << 20;
const { O_APPEND, O_DIRECTORY, O_RDONLY } = constants;
const SEEK_SET = 0;
const SEEK_CUR = 1;
const SEEK_END = 2;

/** One entry of the library file table. */
interface OpenFile {
  readonly connection: Connection;
  readonly fs: RingFileSystem;
  readonly handle: number;
  /** Client-side position; the service's own position is used instead for O_APPEND files. */
  position: number;
  readonly append: boolean;
  readonly path: string;
}

/** Resolves the router socket from the options. */
export function resolveSocket(options: ConnectOptions = {}): string {
  if (options.socket) return options.socket;
  if (process.env.DANAUS_SOCKET) return process.env.DANAUS_SOCKET;
  const tenant = options.tenant ?? process.env.DANAUS_TENANT;
  if (!tenant) throw new Error("danaus: say which tenant to connect to (connect({ tenant }) or DANAUS_TENANT), or give its socket");
  const { host } = loadHost(options.config ?? process.env.DANAUS_CONFIG ?? join(import.meta.dir, "../../config/demo/host.toml"));
  return routerSocketPath(join(host.stateDir, "run", tenant));
}

/** A client of one tenant service, for the calling thread. Every method is synchronous and throws FsError (with `code`). */
export class DanausClient {
  private connection: Connection | null = null;
  private readonly files = new Map<number, OpenFile>();
  private nextFd = FIRST_FD;
  private cwd: string;

  private constructor(private readonly socket: string, cwd: string) {
    this.cwd = normalizePath("/", cwd);
  }

  /** Connects to the tenant's service (registers this thread and maps the region). Throws FsError ENOTCONN when it is not running. */
  static connect(options: ConnectOptions = {}): DanausClient {
    const client = new DanausClient(resolveSocket(options), options.cwd ?? process.cwd());
    client.live();
    return client;
  }

  /** The current connection, reconnecting when the previous service is gone. */
  private live(): Connection {
    if (this.connection?.alive) return this.connection;
    this.connection = Connection.open(this.socket);
    return this.connection;
  }

  /** The tenant's mounts served by this connection (mount point and kind). */
  mounts(): { path: string; kind: string }[] {
    return this.live().mounts.map(({ path, kind }) => ({ path, kind }));
  }

  /** Changes the directory relative paths start from (client-side only: it must be a directory on a mount). */
  chdir(path: string): void {
    const target = normalizePath(this.cwd, path);
    const stat = this.stat(target);
    if ((stat.st_mode & constants.S_IFMT) !== constants.S_IFDIR) throw new FsError(ERRNO.ENOTDIR, "chdir", path);
    this.cwd = target;
  }

  /** The client-side working directory. */
  getcwd(): string {
    return this.cwd;
  }

  /** The filesystem of the mount holding `path` and the path inside it; ENOENT for a path outside every mount. */
  private resolve(path: string, syscall: string): { fs: RingFileSystem; inner: string; connection: Connection; mount: number } {
    if (typeof path !== "string" || path.length === 0) throw new FsError(ERRNO.ENOENT, syscall, String(path));
    if (path.includes("\0")) throw new FsError(ERRNO.EINVAL, syscall, path);
    const connection = this.live();
    const found = findMount(connection.mounts, normalizePath(this.cwd, path));
    if (found === null) {
      const error = new FsError(ERRNO.ENOENT, syscall, path);
      error.message = `ENOENT: ${syscall} '${path}': not under any danaus mount of this tenant (mounts: ${connection.mounts.map((m) => m.path).join(", ") || "none"})`;
      throw error;
    }
    return { fs: new RingFileSystem(connection, found.mount.id), inner: found.inner, connection, mount: found.mount.id };
  }

  /** Two paths that must be on one mount (rename, link): EXDEV otherwise. */
  private resolvePair(a: string, b: string, syscall: string) {
    const first = this.resolve(a, syscall);
    const second = this.resolve(b, syscall);
    if (first.mount !== second.mount) throw new FsError(ERRNO.EXDEV, syscall, b);
    return { fs: first.fs, from: first.inner, to: second.inner };
  }

  private file(fd: number, syscall: string): OpenFile {
    const file = this.files.get(fd);
    if (!file) throw new FsError(ERRNO.EBADF, syscall);
    // Opened through a service that has since been restarted: its descriptor died with it.
    if (file.connection !== this.connection || !file.connection.alive) throw new FsError(ERRNO.ESTALE, syscall, file.path);
    return file;
  }

  /** open(2): returns a private descriptor. */
  open(path: string, flags = O_RDONLY, mode = 0o666): number {
    const { fs, inner, connection } = this.resolve(path, "open");
    const handle = fs.open(inner, flags, mode);
    const fd = this.nextFd++;
    // A FIFO has no position either: like an O_APPEND file, it is read and written where the kernel says.
    this.files.set(fd, { connection, fs, handle, position: 0, append: (flags & O_APPEND) !== 0 || fs.isFifo(handle), path });
    return fd;
  }

  /** close(2). The descriptor is freed even when the service is gone. */
  close(fd: number): void {
    const file = this.files.get(fd);
    if (!file) throw new FsError(ERRNO.EBADF, "close");
    this.files.delete(fd);
    if (file.connection === this.connection && file.connection.alive) file.fs.close(file.handle);
  }

  /** Reads into `buffer[offset, offset+length)` at `position` (or the descriptor's position, which then advances). */
  read(fd: number, buffer: Uint8Array, offset = 0, length = buffer.length - offset, position: number | null = null): number {
    const file = this.file(fd, "read");
    const into = buffer.subarray(offset, offset + length);
    if (position !== null) return file.fs.pread(file.handle, into, position);
    if (file.append) return file.fs.read(file.handle, into);
    const n = file.fs.pread(file.handle, into, file.position);
    file.position += n;
    return n;
  }

  /** Writes `data[offset, offset+length)` at `position` (or the descriptor's position, or the end for O_APPEND). */
  write(fd: number, data: Uint8Array | string, offset = 0, length?: number, position: number | null = null): number {
    const file = this.file(fd, "write");
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const slice = bytes.subarray(offset, length === undefined ? undefined : offset + length);
    if (file.append) return file.fs.write(file.handle, slice);
    if (position !== null) return file.fs.pwrite(file.handle, slice, position);
    const n = file.fs.pwrite(file.handle, slice, file.position);
    file.position += n;
    return n;
  }

  /** pread(2): never moves the descriptor's position. */
  pread(fd: number, buffer: Uint8Array, position: number): number {
    return this.read(fd, buffer, 0, buffer.length, position);
  }

  /** pwrite(2). */
  pwrite(fd: number, data: Uint8Array, position: number): number {
    return this.write(fd, data, 0, data.length, position);
  }

  /** lseek(2) with SEEK_SET / SEEK_CUR / SEEK_END; returns the new position. EINVAL for a negative result. */
  lseek(fd: number, offset: number, whence: number): number {
    const file = this.file(fd, "lseek");
    if (file.append) return file.fs.lseek(file.handle, offset, whence);
    let base: number;
    if (whence === SEEK_SET) base = 0;
    else if (whence === SEEK_CUR) base = file.position;
    else if (whence === SEEK_END) base = file.fs.fstat(file.handle).st_size;
    else throw new FsError(ERRNO.EINVAL, "lseek", file.path);
    const next = base + offset;
    if (!Number.isSafeInteger(next) || next < 0) throw new FsError(ERRNO.EINVAL, "lseek", file.path);
    file.position = next;
    return next;
  }

  fstat(fd: number): Stat {
    const file = this.file(fd, "fstat");
    return file.fs.fstat(file.handle);
  }
  stat(path: string): Stat {
    const { fs, inner } = this.resolve(path, "stat");
    return fs.stat(inner);
  }
  lstat(path: string): Stat {
    const { fs, inner } = this.resolve(path, "lstat");
    return fs.lstat(inner);
  }
  ftruncate(fd: number, length = 0): void {
    const file = this.file(fd, "ftruncate");
    file.fs.ftruncate(file.handle, length);
  }
  truncate(path: string, length = 0): void {
    const { fs, inner } = this.resolve(path, "truncate");
    fs.truncate(inner, length);
  }
  fsync(fd: number): void {
    const file = this.file(fd, "fsync");
    file.fs.fsync(file.handle);
  }
  fdatasync(fd: number): void {
    const file = this.file(fd, "fdatasync");
    file.fs.fdatasync(file.handle);
  }
  mkdir(path: string, mode = 0o777): void {
    const { fs, inner } = this.resolve(path, "mkdir");
    fs.mkdir(inner, mode);
  }
  /**
   * mknod(2) without devices: a FIFO (`S_IFIFO | perms`), a socket (`S_IFSOCK | perms`) or an empty regular file.
   * EPERM for character and block devices, EEXIST, ENOENT, ENOTDIR.
   */
  mknod(path: string, mode: number): void {
    const { fs, inner } = this.resolve(path, "mknod");
    fs.mknod(inner, mode);
  }
  rmdir(path: string): void {
    const { fs, inner } = this.resolve(path, "rmdir");
    fs.rmdir(inner);
  }
  unlink(path: string): void {
    const { fs, inner } = this.resolve(path, "unlink");
    fs.unlink(inner);
  }
  /** rename(2) / renameat2 flags (RENAME_NOREPLACE 1). EXDEV across mounts. */
  rename(from: string, to: string, flags = 0): void {
    const pair = this.resolvePair(from, to, "rename");
    pair.fs.rename(pair.from, pair.to, flags);
  }
  /** Every entry of a directory (without "." and ".."), read in batches. */
  readdir(path: string): Dirent[] {
    const fd = this.open(path, O_RDONLY | O_DIRECTORY);
    try {
      const file = this.file(fd, "readdir");
      const entries: Dirent[] = [];
      for (let cookie = 0; ; ) {
        const batch = file.fs.readdir(file.handle, cookie);
        if (batch.length === 0) return entries;
        entries.push(...batch);
        cookie = batch[batch.length - 1]!.next;
      }
    } finally {
      this.close(fd);
    }
  }
  /** A batch of entries of an open directory after `cookie` (0 = start); empty at the end. */
  readdirBatch(fd: number, cookie: number): Dirent[] {
    const file = this.file(fd, "readdir");
    return file.fs.readdir(file.handle, cookie);
  }
  symlink(target: string, path: string): void {
    const { fs, inner } = this.resolve(path, "symlink");
    fs.symlink(target, inner);
  }
  readlink(path: string): string {
    const { fs, inner } = this.resolve(path, "readlink");
    return fs.readlink(inner);
  }
  link(existing: string, path: string): void {
    const pair = this.resolvePair(existing, path, "link");
    pair.fs.link(pair.from, pair.to);
  }
  chmod(path: string, mode: number): void {
    const { fs, inner } = this.resolve(path, "chmod");
    fs.chmod(inner, mode);
  }
  chown(path: string, uid: number, gid: number): void {
    const { fs, inner } = this.resolve(path, "chown");
    fs.chown(inner, uid, gid, 0);
  }
  lchown(path: string, uid: number, gid: number): void {
    const { fs, inner } = this.resolve(path, "lchown");
    fs.chown(inner, uid, gid, 0x100);
  }
  utimens(path: string, atime: Timespec, mtime: Timespec, flags = 0): void {
    const { fs, inner } = this.resolve(path, "utimens");
    fs.utimens(inner, atime, mtime, flags);
  }
  access(path: string, mode = constants.F_OK): void {
    const { fs, inner } = this.resolve(path, "access");
    fs.access(inner, mode);
  }
  statfs(path: string): Statfs {
    const { fs, inner } = this.resolve(path, "statfs");
    return fs.statfs(inner);
  }

  /** The FileSystem of mount point `mountPath` over the ring (what the conformance suite runs against). */
  fileSystem(mountPath: string): RingFileSystem {
    const connection = this.live();
    const mount = connection.mounts.find((m) => m.path === mountPath);
    if (!mount) throw new FsError(ERRNO.ENOENT, "mount", mountPath);
    return new RingFileSystem(connection, mount.id);
  }

  /** Ends the connection: the service releases this client's files and buffer. */
  disconnect(): void {
    this.files.clear();
    this.connection?.close();
    this.connection = null;
  }
}
