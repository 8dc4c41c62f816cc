/**
 * @module unix-socket — a blocking Unix stream socket client through bun:ffi, for code that must talk synchronously
 * (a client library whose calls are synchronous, reconnecting in the middle of a call).
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { errno, fileCalls } from "./libc.ts";

const lib = dlopen("libc.so.6", {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
});

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const EINTR = 4;
const POLLIN = 1;

/** A socket call failed: which one, the errno, and the path. */
export class UnixSocketError extends Error {
  override readonly name = "UnixSocketError";
  constructor(readonly call: string, readonly errno: number, readonly path: string) {
    super(`${call} on ${path} failed: errno ${errno}`);
  }
}

/** A connected, blocking Unix stream socket. */
export class BlockingUnixSocket {
  /** Bytes received but not consumed yet: `held[start, end)`. */
  private held = new Uint8Array(64 * 1024);
  private start = 0;
  private end = 0;

  private constructor(readonly fd: number, readonly path: string) {}

  /** Connects to `path`. Throws UnixSocketError (ENOENT: no socket, ECONNREFUSED: nobody listening). */
  static connect(path: string): BlockingUnixSocket {
    const fd = lib.symbols.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new UnixSocketError("socket", errno(), path);
    const address = new Uint8Array(110);
    new DataView(address.buffer).setUint16(0, AF_UNIX, true);
    const encoded = new TextEncoder().encode(path);
    if (encoded.length > 107) {
      fileCalls.close(fd);
      throw new UnixSocketError("connect", 36 /* ENAMETOOLONG */, path);
    }
    address.set(encoded, 2);
    if (lib.symbols.connect(fd, ptr(address), 2 + encoded.length + 1) !== 0) {
      const code = errno();
      fileCalls.close(fd);
      throw new UnixSocketError("connect", code, path);
    }
    return new BlockingUnixSocket(fd, path);
  }

  /** Writes all of `text` (UTF-8). */
  write(text: string): void {
    this.writeBytes(new TextEncoder().encode(text));
  }

  /** Writes all of `bytes`. */
  writeBytes(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length; ) {
      const n = fileCalls.write(this.fd, ptr(bytes, done), bytes.length - done) as number;
      if (n < 0) {
        const code = errno();
        if (code === EINTR) continue;
        throw new UnixSocketError("write", code, this.path);
      }
      done += n;
    }
  }

  /** Reads more bytes into the held buffer, waiting at most `timeoutMs` (Infinity: no limit). Throws on EOF or error. */
  private fill(deadline: number): void {
    if (this.start === this.end) this.start = this.end = 0;
    if (this.end === this.held.length) {
      if (this.start > 0) {
        this.held.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      } else {
        const bigger = new Uint8Array(this.held.length * 2);
        bigger.set(this.held);
        this.held = bigger;
      }
    }
    for (;;) {
      if (deadline !== Infinity) {
        const left = Math.ceil(deadline - performance.now());
        if (left <= 0 || !pollIn(this.fd, left)) throw new UnixSocketError("read (timed out)", 110 /* ETIMEDOUT */, this.path);
      }
      const n = fileCalls.read(this.fd, ptr(this.held, this.end), this.held.length - this.end) as number;
      if (n < 0) {
        const code = errno();
        if (code === EINTR) continue;
        throw new UnixSocketError("read", code, this.path);
      }
      if (n === 0) throw new UnixSocketError("read (connection closed)", 104 /* ECONNRESET */, this.path);
      this.end += n;
      return;
    }
  }

  /** Reads one line (without its newline), waiting at most `timeoutMs`. Throws on EOF, timeout or error. */
  readLine(timeoutMs: number): string {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const newline = this.held.subarray(this.start, this.end).indexOf(10);
      if (newline >= 0) {
        const line = new TextDecoder().decode(this.held.subarray(this.start, this.start + newline));
        this.start += newline + 1;
        return line;
      }
      this.fill(deadline);
    }
  }

  /** Reads exactly `into.length` bytes into `into`, blocking as long as it takes. Throws on EOF or error. */
  readExact(into: Uint8Array): void {
    let done = 0;
    while (done < into.length) {
      if (this.start === this.end) this.fill(Infinity);
      const take = Math.min(into.length - done, this.end - this.start);
      into.set(this.held.subarray(this.start, this.start + take), done);
      this.start += take;
      done += take;
    }
  }

  /** Closes the socket (the peer sees the connection end). Idempotent. */
  close(): void {
    if (this.fd >= 0) fileCalls.close(this.fd);
    (this as { fd: number }).fd = -1;
  }
}

/** Whether `fd` becomes readable within `timeoutMs` (0 = just look). */
export function pollIn(fd: number, timeoutMs: number): boolean {
  const pollfd = new Uint8Array(8);
  const view = new DataView(pollfd.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, POLLIN, true);
  for (;;) {
    const n = lib.symbols.poll(ptr(pollfd), 1, timeoutMs);
    if (n < 0 && errno() === EINTR) continue;
    return n > 0;
  }
}

/** Closes a raw fd. */
export function closeFd(fd: number): void {
  fileCalls.close(fd);
}
