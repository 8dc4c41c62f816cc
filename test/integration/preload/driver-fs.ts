/**
 * @module test/integration/preload/driver-fs — a FileSystem whose every call is one libc call made by another process,
 * conformance-driver.c, talked to over a Unix socket pair (its standard input and output) with the driver's binary
 * protocol. Started by `danaus run`, the driver has the preload library in it, so the conformance suite runs through
 * the library; started plainly, through the kernel. The calls block this thread until the driver answers (the suite's
 * interface is synchronous): the service under test must live in another process.
 */
import type { Subprocess } from "bun";
import { errno, fileCalls, setReceiveTimeout, unixStreamPair } from "../../../kernel/sys/libc.ts";
import {
  decodeDirents,
  decodeStat,
  decodeStatfs,
  FsError,
  nameToBytes,
  STAT,
  STATFS,
  type Dirent,
  type FileSystem,
  type Stat,
  type Statfs,
  type Timespec,
} from "../../../kernel/ipc/protocol/index.ts";

/** How long a reply may take before the driver counts as hung (a guard against blocking the test run forever). */
const HUNG_SECONDS = 120;

/** The driver's opcodes and their argument kinds ("i" i64, "s" byte string), as in conformance-driver.c. */
const OPS = {
  open: [1, "sii"], close: [2, "i"], read: [3, "ii"], write: [4, "is"], pread: [5, "iii"], pwrite: [6, "isi"],
  lseek: [7, "iii"], fstat: [8, "i"], stat: [9, "s"], lstat: [10, "s"], ftruncate: [11, "ii"], truncate: [12, "si"],
  fsync: [13, "i"], fdatasync: [14, "i"], mkdir: [15, "si"], mknod: [16, "sii"], rmdir: [17, "s"], unlink: [18, "s"],
  rename: [19, "ssi"], readdir: [20, "ii"], symlink: [21, "ss"], readlink: [22, "s"], link: [23, "ss"],
  chmod: [24, "si"], chown: [25, "siii"], utimens: [26, "siiiii"], access: [27, "si"], statfs: [28, "s"],
} as const satisfies Record<string, readonly [number, string]>;
type Op = keyof typeof OPS;
/** An argument: a number (i64) or a byte string / bytes. */
type Arg = number | string | Uint8Array;

/** What the driver answered: the result and the payload. */
interface Reply {
  readonly result: number;
  readonly payload: Buffer;
}

/** The driver broke the protocol, died or hung: a bug of the implementation under test, never an errno. */
export class DriverError extends Error {
  override readonly name = "DriverError";
}

/**
 * A FileSystem over a running conformance-driver, with paths under `root` (an absolute path as bytes: a mount point
 * of the preload library, or a host directory). Each method is the libc call of the same name on `root/path`; the
 * result or -errno comes back as the value or an FsError.
 */
export class DriverFs implements FileSystem {
  private readonly socket: number;
  private readonly head = Buffer.alloc(12);

  /**
   * Starts `argv` (which ends with the driver's path) with its standard input and output on a new socket pair, and
   * stderr collected for {@link stop}. `env` is the child's environment.
   */
  constructor(readonly root: string, argv: readonly string[], env: Record<string, string | undefined>, cwd: string) {
    const pair = unixStreamPair();
    if (pair === null) throw new DriverError(`socketpair failed: errno ${errno()}`);
    const [mine, theirs] = pair;
    if (setReceiveTimeout(mine, HUNG_SECONDS) !== 0) throw new DriverError(`SO_RCVTIMEO failed: errno ${errno()}`);
    this.socket = mine;
    this.proc = Bun.spawn([...argv], { cwd, env, stdio: [theirs, theirs, "pipe"] });
    fileCalls.close(theirs);
    this.stderr = new Response(this.proc.stderr as ReadableStream<Uint8Array>).text();
  }

  /** The driver's process (through `danaus run`). */
  readonly proc: Subprocess;
  private readonly stderr: Promise<string>;
  private closed = false;

  /** Ends the driver (end of input) and returns its exit status and what it wrote on stderr. */
  async stop(): Promise<{ code: number; stderr: string }> {
    if (!this.closed) {
      this.closed = true;
      fileCalls.close(this.socket);
    }
    const code = await this.proc.exited;
    return { code, stderr: await this.stderr };
  }

  private writeAll(data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const n = Number(fileCalls.write(this.socket, data.subarray(done), data.length - done));
      if (n <= 0) throw new DriverError(`the driver stopped reading (errno ${errno()})`);
      done += n;
    }
  }

  private readExact(into: Uint8Array): void {
    let done = 0;
    while (done < into.length) {
      const n = Number(fileCalls.read(this.socket, into.subarray(done), into.length - done));
      if (n === 0) throw new DriverError("the driver exited before answering");
      if (n < 0) {
        const code = errno();
        if (code === 4) continue; // EINTR
        throw new DriverError(code === 11 ? `the driver did not answer for ${HUNG_SECONDS} s` : `reading the driver's answer: errno ${code}`);
      }
      done += n;
    }
  }

  /** Sends one request and waits for its reply. */
  private call(op: Op, ...args: Arg[]): Reply {
    if (this.closed) throw new DriverError("the driver was stopped");
    const [code, kinds] = OPS[op];
    const parts: Uint8Array[] = [Uint8Array.of(code)];
    [...kinds].forEach((kind, i) => {
      const arg = args[i]!;
      if (kind === "i") {
        const b = Buffer.alloc(8);
        b.writeBigInt64LE(BigInt(arg as number));
        parts.push(b);
      } else {
        const bytes = typeof arg === "string" ? nameToBytes(arg) : (arg as Uint8Array);
        const length = Buffer.alloc(4);
        length.writeUInt32LE(bytes.length);
        parts.push(length, bytes);
      }
    });
    const body = Buffer.concat(parts);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(body.length);
    this.writeAll(length);
    this.writeAll(body);
    this.readExact(this.head);
    const result = Number(this.head.readBigInt64LE(0));
    const payload = Buffer.alloc(this.head.readUInt32LE(8));
    this.readExact(payload);
    return { result, payload };
  }

  /** The result of `op`, or FsError with its errno. */
  private ok(op: Op, path: string | undefined, ...args: Arg[]): Reply {
    const reply = this.call(op, ...args);
    if (reply.result < 0) throw new FsError(-reply.result, op, path);
    return reply;
  }

  /** `root/path` as the driver gets it. */
  private at(path: string): string {
    return `${this.root}/${path}`;
  }

  private statOf(reply: Reply): Stat {
    if (reply.payload.length !== STAT.size) throw new DriverError(`a stat reply of ${reply.payload.length} bytes`);
    return decodeStat(new DataView(reply.payload.buffer, reply.payload.byteOffset, reply.payload.length), 0);
  }

  open(path: string, flags: number, mode: number): number {
    return this.ok("open", path, this.at(path), flags, mode).result;
  }
  /** -1: the library hands a FIFO to the program as a kernel pipe descriptor, which the driver reads and writes. */
  fifoNode(_fd: number): number {
    return -1;
  }
  close(fd: number): void {
    this.ok("close", undefined, fd);
  }
  pread(fd: number, into: Uint8Array, offset: number): number {
    return this.copyOut(this.ok("pread", undefined, fd, into.length, offset), into);
  }
  pwrite(fd: number, data: Uint8Array, offset: number): number {
    return this.ok("pwrite", undefined, fd, data, offset).result;
  }
  read(fd: number, into: Uint8Array): number {
    return this.copyOut(this.ok("read", undefined, fd, into.length), into);
  }
  write(fd: number, data: Uint8Array): number {
    return this.ok("write", undefined, fd, data).result;
  }
  private copyOut(reply: Reply, into: Uint8Array): number {
    if (reply.payload.length !== reply.result || reply.result > into.length) throw new DriverError(`read ${reply.result} with ${reply.payload.length} bytes`);
    into.set(reply.payload);
    return reply.result;
  }
  lseek(fd: number, offset: number, whence: number): number {
    return this.ok("lseek", undefined, fd, offset, whence).result;
  }
  fstat(fd: number): Stat {
    return this.statOf(this.ok("fstat", undefined, fd));
  }
  stat(path: string): Stat {
    return this.statOf(this.ok("stat", path, this.at(path)));
  }
  lstat(path: string): Stat {
    return this.statOf(this.ok("lstat", path, this.at(path)));
  }
  ftruncate(fd: number, length: number): void {
    this.ok("ftruncate", undefined, fd, length);
  }
  truncate(path: string, length: number): void {
    this.ok("truncate", path, this.at(path), length);
  }
  fsync(fd: number): void {
    this.ok("fsync", undefined, fd);
  }
  fdatasync(fd: number): void {
    this.ok("fdatasync", undefined, fd);
  }
  mkdir(path: string, mode: number): void {
    this.ok("mkdir", path, this.at(path), mode);
  }
  mknod(path: string, mode: number, rdev: number): void {
    this.ok("mknod", path, this.at(path), mode, rdev);
  }
  rmdir(path: string): void {
    this.ok("rmdir", path, this.at(path));
  }
  unlink(path: string): void {
    this.ok("unlink", path, this.at(path));
  }
  rename(from: string, to: string, flags: number): void {
    this.ok("rename", from, this.at(from), this.at(to), flags);
  }
  /** lseek to `cookie` and getdents64 (see the driver): one batch, without "." and "..". */
  readdir(fd: number, cookie: number): Dirent[] {
    const reply = this.ok("readdir", undefined, fd, cookie);
    const entries = decodeDirents(reply.payload, 0, reply.payload.length);
    if (typeof entries === "number" || entries.length !== reply.result) throw new DriverError("malformed directory records");
    return entries;
  }
  symlink(target: string, path: string): void {
    this.ok("symlink", path, target, this.at(path));
  }
  readlink(path: string): string {
    return this.ok("readlink", path, this.at(path)).payload.toString("latin1");
  }
  link(existing: string, path: string): void {
    this.ok("link", path, this.at(existing), this.at(path));
  }
  chmod(path: string, mode: number): void {
    this.ok("chmod", path, this.at(path), mode);
  }
  chown(path: string, uid: number, gid: number, flags: number): void {
    this.ok("chown", path, this.at(path), uid, gid, flags);
  }
  utimens(path: string, atime: Timespec, mtime: Timespec, flags: number): void {
    this.ok("utimens", path, this.at(path), atime.sec, atime.nsec, mtime.sec, mtime.nsec, flags);
  }
  access(path: string, mode: number): void {
    this.ok("access", path, this.at(path), mode);
  }
  statfs(path: string): Statfs {
    const reply = this.ok("statfs", path, this.at(path));
    if (reply.payload.length !== STATFS.size) throw new DriverError(`a statfs reply of ${reply.payload.length} bytes`);
    return decodeStatfs(new DataView(reply.payload.buffer, reply.payload.byteOffset, reply.payload.length), 0);
  }
}
