/**
 * @module ring-fs — one mount of the tenant's service seen through the shared-memory ring, as a FileSystem: the same
 * interface the service implements, so the conformance suite runs on both sides of the process boundary. Transfers
 * larger than the request buffer are split here.
 */
import {
  bytesToName,
  decodeDirents,
  decodeStat,
  decodeStatfs,
  encodePaths,
  ERRNO,
  packArgs,
  type ArgsOf,
  FIFO_NODE,
  FsError,
  OPCODE,
  STAT,
  type Dirent,
  type FileSystem,
  type Stat,
  type Statfs,
  type Timespec,
} from "../../kernel/ipc/protocol/index.ts";
import { RequestRangeError } from "../../kernel/ipc/ring/index.ts";
import { KernelFifos } from "./kernel-fifo.ts";
import type { Transport } from "./transport.ts";

type OpName = keyof typeof OPCODE;
/** The application region a service shares with the service it calls, as {@link RingFileSystemOptions.sharedRegion} gives it. */
export interface SharedRegionView {
  /** The process serving the region (the front): how the service below tells it from a restarted front's. */
  readonly front: number;
  readonly bytes: Uint8Array;
  readonly buffersStart: number;
  readonly buffersEnd: number;
}

/** How a RingFileSystem behaves for a caller that is itself a service. */
export interface RingFileSystemOptions {
  /**
   * A FIFO is not reopened: its node is kept as an O_PATH descriptor of this process and handed on by fifoNode, so
   * the service's own caller reopens it and waits for the partner there, and no service thread of the chain ever
   * waits on a pipe.
   */
  readonly fifoNodes?: boolean;
  /**
   * The tenant's application region as this thread maps it: a pread or pwrite whose bytes lie in its request buffers
   * is sent by reference (`pread_ref`, `pwrite_ref`: the front's pid and the offset), and the service reads or writes them in place.
   */
  readonly sharedRegion?: () => SharedRegionView | null;
}

/** The operations whose first argument is the mount (the path operations). */
type PathOpName = { [N in OpName]: "mount" extends keyof ArgsOf<N> ? N : never }[OpName];

/** Bytes of encoded entries one readdir asks for by default: a few hundred names, never the whole request buffer. */
export const READDIR_WINDOW = 32 * 1024;
/** The smallest readdir window: one entry of a 255-byte name fits with room to spare (the service needs 288 bytes). */
const READDIR_MIN_WINDOW = 4096;

/**
 * A FileSystem for mount `mount` of the service behind `connection` (any transport). Handles are service descriptors.
 * A FIFO's handle reads and writes the kernel pipe the service named (see kernel-fifo.ts), in this thread's instance.
 */
export class RingFileSystem implements FileSystem {
  private readonly fifos = new KernelFifos();

  constructor(
    private readonly connection: Transport,
    readonly mount: number,
    private readonly options: RingFileSystemOptions = {},
  ) {}

  /**
   * Where `bytes` lie in the application region this caller shares with the service ({@link RingFileSystemOptions}),
   * or null: then they travel through the request buffer.
   */
  private reference(bytes: Uint8Array): { front: number; at: number } | null {
    if (bytes.length === 0) return null;
    const region = this.options.sharedRegion?.();
    if (region == null || bytes.buffer !== region.bytes.buffer) return null;
    const at = bytes.byteOffset - region.bytes.byteOffset;
    return at >= region.buffersStart && at + bytes.length <= region.buffersEnd ? { front: region.front, at } : null;
  }

  /**
   * Runs a `*_ref` call; null when the service refused the reference with EINVAL (a region it does not map, such as a
   * restarted front's before it caught up), so the caller copies instead (a real EINVAL then comes back from that).
   */
  private byReference(call: () => number): number | null {
    try {
      return call();
    } catch (error) {
      if (error instanceof FsError && error.errno === ERRNO.EINVAL) return null;
      throw error;
    }
  }

  /** O_PATH descriptors of FIFO nodes by handle ({@link options}.fifoNodes). */
  private readonly nodes = new Map<number, number>();

  /**
   * Sends `op` with `args`, a window of `length` bytes of which `payload` carry request data; returns the non-negative
   * result or throws FsError.
   */
  private call<N extends OpName>(op: N, args: ArgsOf<N>, length: number, path?: string, payload = 0): { result: number; replyLength: number } {
    let reply;
    try {
      // Argument positions come from the operation table (packArgs), as the service reads them (ARG).
      reply = this.connection.call(OPCODE[op], packArgs(op, args), length, op, payload);
    } catch (error) {
      // An argument no i64 carries (a service passing on what its own caller sent, as -2^63 - 1 decoded to a double):
      // the call is refused as the kernel refuses an out-of-range argument.
      if (error instanceof RequestRangeError && error.field.startsWith("args[")) throw new FsError(ERRNO.EINVAL, op, path);
      throw error;
    }
    if (reply.result < 0) throw new FsError(-reply.result, op, path);
    return reply;
  }

  /**
   * Writes `paths` at the start of the buffer; returns their length. Paths the window cannot carry (longer than
   * DANAUS_PATH_MAX, or two that do not fit together) are staged first (`stage_paths`, kernel/ipc/server/path-stage.ts)
   * and the window says so with a leading NUL.
   */
  private paths(op: OpName, ...paths: string[]): number {
    const list = paths.map((p) => (p === "" ? "/" : p));
    const { buffer, bufferSize } = this.connection;
    const written = encodePaths(buffer, 0, bufferSize, list);
    if (written === -ERRNO.ENAMETOOLONG) return this.stagePaths(op, list);
    if (written < 0) throw new FsError(-written, op, paths[0]);
    return written;
  }

  /** Sends `paths` ahead of their request in window-sized pieces; returns the request's payload length (its NUL). */
  private stagePaths(op: OpName, paths: string[]): number {
    const { buffer, bufferSize } = this.connection;
    const total = paths.reduce((sum, path) => sum + path.length + 1, 0);
    const bytes = new Uint8Array(total);
    const written = encodePaths(bytes, 0, total, paths, Infinity);
    if (written < 0) throw new FsError(-written, op, paths[0]);
    for (let offset = 0; offset < total; ) {
      const piece = Math.min(bufferSize, total - offset);
      buffer.set(bytes.subarray(offset, offset + piece));
      let staged: number;
      try {
        staged = this.call("stage_paths", { offset, total }, piece, paths[0], piece).result;
      } catch (error) {
        // ENAMETOOLONG (more than the service stages), ENOMEM (its stage is full now): the error of `op`.
        if (error instanceof FsError) throw new FsError(error.errno, op, paths[0]);
        throw error;
      }
      if (staged !== piece) throw new FsError(ERRNO.EIO, op, paths[0]);
      offset += piece;
    }
    buffer[0] = 0;
    return 1;
  }

  /** A path operation whose reply needs the whole window. */
  private onPath<N extends PathOpName>(op: N, args: Omit<ArgsOf<N>, "mount">, ...paths: string[]): { result: number; replyLength: number } {
    const payload = this.paths(op, ...paths);
    return this.call(op, { ...args, mount: this.mount } as unknown as ArgsOf<N>, this.connection.bufferSize, paths[0], payload);
  }

  /** open(2); a FIFO is reopened here from the node the service answered with, waiting for a partner as open(2) does. */
  open(path: string, flags: number, mode: number): number {
    const { result, replyLength } = this.onPath("open", { flags, mode }, path);
    if (replyLength !== FIFO_NODE.size) return result;
    const node = FIFO_NODE.read(this.connection.view, 0);
    try {
      if (this.options.fifoNodes) this.nodes.set(result, this.fifos.node(node));
      else this.fifos.open(result, node, flags);
    } catch (error) {
      this.call("close", { fd: result }, 0);
      if (error instanceof FsError) throw new FsError(error.errno, "open", path);
      throw error;
    }
    return result;
  }

  /**
   * Closes the FIFO nodes this instance still keeps ({@link RingFileSystemOptions.fifoNodes}) once its service is gone:
   * their handles died with it, and nothing will close them one by one.
   */
  forgetNodes(): void {
    for (const node of this.nodes.values()) this.fifos.closeNode(node);
    this.nodes.clear();
  }

  /** Whether `fd` is a FIFO read and written through the kernel (no position: read/write only, seeking ESPIPE). */
  isFifo(fd: number): boolean {
    return this.fifos.has(fd);
  }

  /** The FIFO node kept for `fd` ({@link options}.fifoNodes), else -1: a FIFO's handle here already carries the pipe's bytes. */
  fifoNode(fd: number): number {
    return this.nodes.size === 0 ? -1 : (this.nodes.get(fd) ?? -1);
  }

  close(fd: number): void {
    this.fifos.close(fd);
    const node = this.nodes.get(fd);
    if (node !== undefined) {
      this.nodes.delete(fd);
      this.fifos.closeNode(node);
    }
    this.call("close", { fd }, 0);
  }

  private readChunks(into: Uint8Array, position: number | null, fd: number): number {
    const { buffer, bufferSize } = this.connection;
    let done = 0;
    if (into.length === 0) {
      // Still ask the service, so a bad descriptor is reported as it would be by read(2).
      if (position === null) this.call("read", { fd, count: 0 }, 0);
      else this.call("pread", { fd, count: 0, offset: position }, 0);
      return 0;
    }
    while (done < into.length) {
      const want = Math.min(bufferSize, into.length - done);
      const { result } = position === null ? this.call("read", { fd, count: want }, want) : this.call("pread", { fd, count: want, offset: position + done }, want);
      into.set(buffer.subarray(0, result), done);
      done += result;
      if (result < want) break;
    }
    return done;
  }

  private writeChunks(data: Uint8Array, position: number | null, fd: number): number {
    const { buffer, bufferSize } = this.connection;
    let done = 0;
    while (done < data.length || (data.length === 0 && done === 0)) {
      const size = Math.min(bufferSize, data.length - done);
      buffer.set(data.subarray(done, done + size), 0);
      const { result } = position === null ? this.call("write", { fd }, size, undefined, size) : this.call("pwrite", { fd, offset: position + done }, size, undefined, size);
      done += result;
      if (result < size || data.length === 0) break;
    }
    return done;
  }

  pread(fd: number, into: Uint8Array, offset: number): number {
    if (this.fifos.has(fd)) this.fifos.unseekable("pread");
    const ref = this.reference(into);
    if (ref !== null) {
      const done = this.byReference(() => this.call("pread_ref", { fd, count: into.length, offset, ...ref }, 0).result);
      if (done !== null) return done;
    }
    return this.readChunks(into, offset, fd);
  }

  pwrite(fd: number, data: Uint8Array, offset: number): number {
    if (this.fifos.has(fd)) this.fifos.unseekable("pwrite");
    const ref = this.reference(data);
    if (ref !== null) {
      const done = this.byReference(() => this.call("pwrite_ref", { fd, offset, count: data.length, ...ref }, 0).result);
      if (done !== null) return done;
    }
    return this.writeChunks(data, offset, fd);
  }

  read(fd: number, into: Uint8Array): number {
    if (this.fifos.has(fd)) return this.fifos.read(fd, into);
    // A refused reference read nothing (the service checks it first), so the copy below reads from the same position.
    const ref = this.reference(into);
    if (ref !== null) {
      const done = this.byReference(() => this.call("read_ref", { fd, count: into.length, ...ref }, 0).result);
      if (done !== null) return done;
    }
    return this.readChunks(into, null, fd);
  }

  write(fd: number, data: Uint8Array): number {
    if (this.fifos.has(fd)) return this.fifos.write(fd, data);
    const ref = this.reference(data);
    if (ref !== null) {
      const done = this.byReference(() => this.call("write_ref", { fd, count: data.length, ...ref }, 0).result);
      if (done !== null) return done;
    }
    return this.writeChunks(data, null, fd);
  }

  /**
   * copy_range: the service copies up to `count` bytes of its file `input` from `inOffset` to its file `fd` at
   * `offset` (both handles of this registration), using this connection's request buffer as its scratch.
   */
  copyRange(fd: number, offset: number, input: number, inOffset: number, count: number): number {
    if (this.fifos.has(fd) || this.fifos.has(input)) this.fifos.unseekable("copy_file_range");
    return this.call("copy_range", { fd, offset, in_fd: input, in_offset: inOffset, count }, this.connection.bufferSize).result;
  }

  lseek(fd: number, offset: number, whence: number): number {
    if (this.fifos.has(fd)) this.fifos.unseekable("lseek");
    return this.call("lseek", { fd, offset, whence }, 0).result;
  }

  private stat_(): Stat {
    return decodeStat(this.connection.view, 0);
  }

  fstat(fd: number): Stat {
    this.call("fstat", { fd }, STAT.size);
    return this.stat_();
  }

  stat(path: string): Stat {
    this.onPath("stat", {}, path);
    return this.stat_();
  }

  lstat(path: string): Stat {
    this.onPath("lstat", {}, path);
    return this.stat_();
  }

  ftruncate(fd: number, length: number): void {
    if (this.fifos.has(fd)) return this.fifos.ftruncate(fd, length);
    this.call("ftruncate", { fd, length }, 0);
  }

  truncate(path: string, length: number): void {
    this.onPath("truncate", { length }, path);
  }

  fsync(fd: number): void {
    if (this.fifos.has(fd)) return this.fifos.fsync(fd, "fsync");
    this.call("fsync", { fd }, 0);
  }

  fdatasync(fd: number): void {
    if (this.fifos.has(fd)) return this.fifos.fsync(fd, "fdatasync");
    this.call("fdatasync", { fd }, 0);
  }

  mkdir(path: string, mode: number): void {
    this.onPath("mkdir", { mode }, path);
  }

  mknod(path: string, mode: number, rdev: number): void {
    this.onPath("mknod", { mode, rdev }, path);
  }

  rmdir(path: string): void {
    this.onPath("rmdir", {}, path);
  }

  unlink(path: string): void {
    this.onPath("unlink", {}, path);
  }

  rename(from: string, to: string, flags: number): void {
    this.onPath("rename", { flags }, from, to);
  }

  /**
   * One batch of at most `maxBytes` of encoded entries (default {@link READDIR_WINDOW}, at least one entry of the
   * longest name): the service encodes no more than the window, so a stream never decodes a whole 1 MiB buffer.
   */
  readdir(fd: number, cookie: number, maxBytes = READDIR_WINDOW): Dirent[] {
    const window = Math.min(this.connection.bufferSize, Math.max(READDIR_MIN_WINDOW, maxBytes));
    const { replyLength } = this.call("readdir", { fd, cookie }, window);
    // Decode a private copy: the buffer is shared memory another process of the tenant could rewrite mid-decode.
    const entries = decodeDirents(this.connection.buffer.slice(0, replyLength), 0, replyLength);
    if (typeof entries === "number") throw new FsError(entries, "readdir");
    return entries;
  }

  symlink(target: string, path: string): void {
    this.onPath("symlink", {}, target, path);
  }

  readlink(path: string): string {
    const { result } = this.onPath("readlink", {}, path);
    return bytesToName(this.connection.buffer.slice(0, result));
  }

  link(existing: string, path: string): void {
    this.onPath("link", {}, existing, path);
  }

  chmod(path: string, mode: number): void {
    this.onPath("chmod", { mode }, path);
  }

  chown(path: string, uid: number, gid: number, flags: number): void {
    this.onPath("chown", { uid, gid, flags }, path);
  }

  utimens(path: string, atime: Timespec, mtime: Timespec, flags: number): void {
    this.onPath("utimens", { atime_sec: atime.sec, atime_nsec: atime.nsec, mtime_sec: mtime.sec, mtime_nsec: mtime.nsec, flags }, path);
  }

  access(path: string, mode: number): void {
    this.onPath("access", { mode }, path);
  }

  statfs(path: string): Statfs {
    this.onPath("statfs", {}, path);
    return decodeStatfs(this.connection.view, 0);
  }
}

