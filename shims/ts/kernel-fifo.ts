/**
 * @module kernel-fifo — the client's side of a FIFO: the service answers an open of a FIFO with a node of its own
 * (`danaus_fifo_node`) instead of serving the pipe, and this client reopens that node through
 * `/proc/<pid>/fd/<fd>` with the caller's flags. The open waits for its partner here, in the caller's thread, exactly
 * as the kernel's open of a FIFO does (O_NONBLOCK: a reader opens at once, a writer without a reader gets ENXIO), and
 * the pipe's bytes go through the kernel; no service thread ever waits on a pipe. Reaching another process's
 * `/proc/<pid>/fd` needs the same user as the service, or root: the same as registering with it (its socket is 0600).
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { ERRNO, FsError, fifoNodePath, type FifoNode } from "../../kernel/ipc/protocol/index.ts";
import { O } from "../../kernel/ipc/protocol/linux.ts";

/** The flags of an open that matter to a FIFO's reopen (the name exists: creating and truncating mean nothing). */
const REOPEN_MASK = ~(O.CREAT | O.EXCL | O.TRUNC | O.NOFOLLOW | O.DIRECTORY);

/** A failed node:fs call on a kernel descriptor, as the FsError the FileSystem contract throws. */
function asFsError(error: unknown, syscall: string): FsError {
  const errno = (error as { errno?: number }).errno;
  if (typeof errno === "number") return new FsError(Math.abs(errno), syscall);
  return new FsError(ERRNO.EIO, syscall);
}

function kernel<T>(syscall: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw asFsError(error, syscall);
  }
}

/** The pipes this client opened, by the service descriptor that names each one's node (kept open until close). */
export class KernelFifos {
  private readonly byHandle = new Map<number, number>();

  /** Whether `handle` is a FIFO this client reads and writes through the kernel. */
  has(handle: number): boolean {
    return this.byHandle.size !== 0 && this.byHandle.has(handle);
  }

  /** Reopens `node` with `flags` for `handle` (waits for a partner unless O_NONBLOCK). Throws FsError (ENXIO, EACCES, ...). */
  open(handle: number, node: FifoNode, flags: number): void {
    const fd = kernel("open", () => openSync(fifoNodePath(node), (flags & REOPEN_MASK) | O.CLOEXEC));
    this.byHandle.set(handle, fd);
  }

  /** An O_PATH descriptor of `node` in this process, to hand on as a node of its own (never waits). */
  node(node: FifoNode): number {
    return kernel("open", () => openSync(fifoNodePath(node), O.PATH | O.CLOEXEC));
  }

  /** Closes a descriptor from {@link node}. */
  closeNode(fd: number): void {
    closeSync(fd);
  }

  private fd(handle: number): number {
    return this.byHandle.get(handle)!;
  }

  /** read(2) from the pipe. EAGAIN (non-blocking, empty while a writer is open), EBADF (opened write-only). */
  read(handle: number, into: Uint8Array): number {
    return kernel("read", () => readSync(this.fd(handle), into, 0, into.length, null));
  }

  /** write(2) to the pipe. EAGAIN (non-blocking, full), EPIPE (no reader), EBADF (opened read-only). */
  write(handle: number, data: Uint8Array): number {
    return kernel("write", () => writeSync(this.fd(handle), data, 0, data.length, null));
  }

  /** Positioned I/O and seeking: ESPIPE, as on any pipe. */
  unseekable(syscall: string): never {
    throw new FsError(ERRNO.ESPIPE, syscall);
  }

  /** ftruncate(2) of a pipe: EINVAL (from the kernel). */
  ftruncate(handle: number, length: number): void {
    kernel("ftruncate", () => ftruncateSync(this.fd(handle), length));
  }

  /** fsync(2)/fdatasync(2) of a pipe: EINVAL (from the kernel). */
  fsync(handle: number, syscall: string): void {
    kernel(syscall, () => fsyncSync(this.fd(handle)));
  }

  /** Closes the kernel descriptor of `handle` (the caller then closes the service descriptor). */
  close(handle: number): void {
    const fd = this.byHandle.get(handle);
    if (fd === undefined) return;
    this.byHandle.delete(handle);
    closeSync(fd);
  }
}
