/**
 * @module client — the danaus client for Bun apps: synchronous POSIX-like calls on paths under the tenant's mounts,
 * over the shared-memory ring. It keeps the library file table (private descriptors with client-side offsets) and
 * the mount table, normalises paths, and reconnects on the next call after the service was restarted.
 */
import { constants } from "node:fs";
import { join } from "node:path";
import { loadHost } from "../../kernel/config/index.ts";
import { routerSocketPath } from "../../kernel/ipc/sockets.ts";
import {
  bytesToName,
  ERRNO,
  FsError,
  nameFromText,
  nameToBytes,
  O,
  PATH_MAX,
  textFromName,
  type Dirent,
  type Stat,
  type Statfs,
  type Timespec,
} from "../../kernel/ipc/protocol/index.ts";
import { Connection } from "./connection.ts";
import { findMount, normalizePath } from "./paths.ts";
import { RingFileSystem } from "./ring-fs.ts";
import { maskedMode } from "./umask.ts";

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

/** A path as the client takes it, node's way: a string is UTF-8 text, a Buffer or Uint8Array its exact bytes. */
export type PathLike = string | Uint8Array;

/** How names come back from readdir and readlink: decoded as UTF-8 (default) or as their exact bytes. */
export interface NameOptions {
  readonly encoding?: "utf8" | "buffer";
}

/** A directory entry as the client returns it, its name text or bytes. */
export type ClientDirent<N extends string | Buffer> = Omit<Dirent, "name"> & { readonly name: N };

/** The byte string (see names.ts) of a client path. */
function toName(path: PathLike): string {
  return typeof path === "string" ? nameFromText(path) : bytesToName(path);
}

/** A byte string as the caller asked for it. */
function fromName(name: string, options: NameOptions): string | Buffer {
  return options.encoding === "buffer" ? nameToBytes(name) : textFromName(name);
}

const mountsByConnection = new WeakMap<Connection, { path: string; id: number; kind: string }[]>();

/** The connection's mount table with the mount points as byte strings (configs hold them as text). */
function byteMounts(connection: Connection): { path: string; id: number; kind: string }[] {
  let mounts = mountsByConnection.get(connection);
  if (mounts === undefined) {
    mounts = connection.mounts.map((m) => ({ ...m, path: nameFromText(m.path) }));
    mountsByConnection.set(connection, mounts);
  }
  return mounts;
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
    this.cwd = normalizePath("/", nameFromText(cwd));
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
  chdir(path: PathLike): void {
    const target = normalizePath(this.cwd, toName(path));
    // The argument as given: joined to a deep cwd, `target` may be longer than one argument may be (PATH_MAX).
    const stat = this.stat(path);
    if ((stat.st_mode & constants.S_IFMT) !== constants.S_IFDIR) throw new FsError(ERRNO.ENOTDIR, "chdir", target);
    this.cwd = target;
  }

  /** The client-side working directory (as text; bytes that are not UTF-8 show as U+FFFD). */
  getcwd(): string {
    return textFromName(this.cwd);
  }

  /** The filesystem of the mount holding `path` and the path inside it; ENOENT for a path outside every mount. */
  private resolve(given: PathLike, syscall: string): { fs: RingFileSystem; inner: string; connection: Connection; mount: number } {
    if ((typeof given !== "string" && !(given instanceof Uint8Array)) || given.length === 0) throw new FsError(ERRNO.ENOENT, syscall, String(given));
    const path = toName(given);
    if (path.includes("\0")) throw new FsError(ERRNO.EINVAL, syscall, path);
    // One argument is bounded as the kernel bounds it; joined to the cwd, the path inside the mount may be longer.
    if (path.length >= PATH_MAX) throw new FsError(ERRNO.ENAMETOOLONG, syscall, path);
    const connection = this.live();
    const found = findMount(byteMounts(connection), normalizePath(this.cwd, path));
    if (found === null) {
      const error = new FsError(ERRNO.ENOENT, syscall, path);
      error.message = `ENOENT: ${syscall} '${path}': not under any danaus mount of this tenant (mounts: ${connection.mounts.map((m) => m.path).join(", ") || "none"})`;
      throw error;
    }
    return { fs: new RingFileSystem(connection, found.mount.id), inner: found.inner, connection, mount: found.mount.id };
  }

  /** Two paths that must be on one mount (rename, link): EXDEV otherwise. */
  private resolvePair(a: PathLike, b: PathLike, syscall: string) {
    const first = this.resolve(a, syscall);
    const second = this.resolve(b, syscall);
    if (first.mount !== second.mount) throw new FsError(ERRNO.EXDEV, syscall, toName(b));
    return { fs: first.fs, from: first.inner, to: second.inner };
  }

  private file(fd: number, syscall: string): OpenFile {
    const file = this.files.get(fd);
    if (!file) throw new FsError(ERRNO.EBADF, syscall);
    // Opened through a service that has since been restarted: its descriptor died with it.
    if (file.connection !== this.connection || !file.connection.alive) throw new FsError(ERRNO.ESTALE, syscall, file.path);
    return file;
  }

  /** open(2): returns a private descriptor. A file it creates gets `mode` less this process's umask, as open(2). */
  open(path: PathLike, flags = O_RDONLY, mode = 0o666): number {
    const { fs, inner, connection } = this.resolve(path, "open");
    const creates = (flags & O.CREAT) !== 0 || (flags & O.TMPFILE) === O.TMPFILE;
    const handle = fs.open(inner, flags, creates ? maskedMode(mode) : mode);
    const fd = this.nextFd++;
    // A FIFO has no position either: like an O_APPEND file, it is read and written where the kernel says.
    this.files.set(fd, { connection, fs, handle, position: 0, append: (flags & O_APPEND) !== 0 || fs.isFifo(handle), path: toName(path) });
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
  stat(path: PathLike): Stat {
    const { fs, inner } = this.resolve(path, "stat");
    return fs.stat(inner);
  }
  lstat(path: PathLike): Stat {
    const { fs, inner } = this.resolve(path, "lstat");
    return fs.lstat(inner);
  }
  ftruncate(fd: number, length = 0): void {
    const file = this.file(fd, "ftruncate");
    file.fs.ftruncate(file.handle, length);
  }
  truncate(path: PathLike, length = 0): void {
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
  /** mkdir(2): `mode` less this process's umask, as mkdir(2). */
  mkdir(path: PathLike, mode = 0o777): void {
    const { fs, inner } = this.resolve(path, "mkdir");
    fs.mkdir(inner, maskedMode(mode));
  }
  /**
   * mknod(2): a FIFO (`S_IFIFO | perms`), a socket (`S_IFSOCK | perms`), an empty regular file, or a character or
   * block device (`S_IFCHR` / `S_IFBLK`, with `rdev` as makedev(3) gives it), with the permission bits less this
   * process's umask. A device needs a service allowed to make one (EPERM otherwise, as mknod(2) without
   * CAP_MKNOD); it can be listed and stat'ed but never opened (EACCES: every mount is `nodev`). EEXIST, ENOENT, ENOTDIR.
   */
  mknod(path: PathLike, mode: number, rdev = 0): void {
    const { fs, inner } = this.resolve(path, "mknod");
    fs.mknod(inner, maskedMode(mode), rdev);
  }
  rmdir(path: PathLike): void {
    const { fs, inner } = this.resolve(path, "rmdir");
    fs.rmdir(inner);
  }
  unlink(path: PathLike): void {
    const { fs, inner } = this.resolve(path, "unlink");
    fs.unlink(inner);
  }
  /** rename(2) / renameat2 flags (RENAME_NOREPLACE 1). EXDEV across mounts. */
  rename(from: PathLike, to: PathLike, flags = 0): void {
    const pair = this.resolvePair(from, to, "rename");
    pair.fs.rename(pair.from, pair.to, flags);
  }
  /**
   * Every entry of a directory (without "." and ".."), read in batches. Names are decoded as UTF-8 (node's default:
   * bytes that are not UTF-8 become U+FFFD), or kept as their exact bytes with `{ encoding: "buffer" }`.
   */
  readdir(path: PathLike, options?: { encoding?: "utf8" }): Dirent[];
  readdir(path: PathLike, options: { encoding: "buffer" }): ClientDirent<Buffer>[];
  readdir(path: PathLike, options: NameOptions = {}): ClientDirent<string | Buffer>[] {
    const fd = this.open(path, O_RDONLY | O_DIRECTORY);
    try {
      const file = this.file(fd, "readdir");
      const entries: ClientDirent<string | Buffer>[] = [];
      for (let cookie = 0; ; ) {
        const batch = file.fs.readdir(file.handle, cookie);
        if (batch.length === 0) return entries;
        for (const entry of batch) entries.push({ ...entry, name: fromName(entry.name, options) });
        cookie = batch[batch.length - 1]!.next;
      }
    } finally {
      this.close(fd);
    }
  }
  /** A batch of entries of an open directory after `cookie` (0 = start); empty at the end. Names as {@link readdir}. */
  readdirBatch(fd: number, cookie: number, options?: { encoding?: "utf8" }): Dirent[];
  readdirBatch(fd: number, cookie: number, options: { encoding: "buffer" }): ClientDirent<Buffer>[];
  readdirBatch(fd: number, cookie: number, options: NameOptions = {}): ClientDirent<string | Buffer>[] {
    const file = this.file(fd, "readdir");
    return file.fs.readdir(file.handle, cookie).map((entry) => ({ ...entry, name: fromName(entry.name, options) }));
  }
  /** symlink(2): `path` holds `target` verbatim (a string target is stored as its UTF-8 bytes, a Buffer as is). */
  symlink(target: PathLike, path: PathLike): void {
    const { fs, inner } = this.resolve(path, "symlink");
    const bytes = toName(target);
    if (bytes.length >= PATH_MAX) throw new FsError(ERRNO.ENAMETOOLONG, "symlink", inner);
    fs.symlink(bytes, inner);
  }
  /** readlink(2): the stored target, decoded as UTF-8 (node's default), or its exact bytes with `{ encoding: "buffer" }`. */
  readlink(path: PathLike, options?: { encoding?: "utf8" }): string;
  readlink(path: PathLike, options: { encoding: "buffer" }): Buffer;
  readlink(path: PathLike, options: NameOptions = {}): string | Buffer {
    const { fs, inner } = this.resolve(path, "readlink");
    return fromName(fs.readlink(inner), options);
  }
  link(existing: PathLike, path: PathLike): void {
    const pair = this.resolvePair(existing, path, "link");
    pair.fs.link(pair.from, pair.to);
  }
  chmod(path: PathLike, mode: number): void {
    const { fs, inner } = this.resolve(path, "chmod");
    fs.chmod(inner, mode);
  }
  chown(path: PathLike, uid: number, gid: number): void {
    const { fs, inner } = this.resolve(path, "chown");
    fs.chown(inner, uid, gid, 0);
  }
  lchown(path: PathLike, uid: number, gid: number): void {
    const { fs, inner } = this.resolve(path, "lchown");
    fs.chown(inner, uid, gid, 0x100);
  }
  utimens(path: PathLike, atime: Timespec, mtime: Timespec, flags = 0): void {
    const { fs, inner } = this.resolve(path, "utimens");
    fs.utimens(inner, atime, mtime, flags);
  }
  access(path: PathLike, mode = constants.F_OK): void {
    const { fs, inner } = this.resolve(path, "access");
    fs.access(inner, mode);
  }
  statfs(path: PathLike): Statfs {
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
