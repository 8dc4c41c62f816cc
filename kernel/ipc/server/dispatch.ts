/**
 * @module dispatch — serves one request taken off a queue: checks who is asking, finds the filesystem instance of the
 * mount or the open file, calls it, writes the reply payload into the caller's window and returns the result
 * (≥ 0, or -errno). Never throws: a handler that throws an unexpected error is answered -EIO.
 */
import {
  ARG,
  DIRENT_NAME_OFFSET,
  encodeDirents,
  encodeStat,
  encodeStatfs,
  ERRNO,
  FIFO_NODE,
  FsError,
  decodePaths,
  lookupOperation,
  mutates,
  DANAUS_PATH_MAX,
  PATH_MAX,
  STAT,
  STATFS,
  type FileSystem,
  type Operation,
  type RequestDescriptor,
} from "../protocol/index.ts";
import type { NameChangeKind } from "./change-log.ts";
import type { FrontRegion } from "./front-region.ts";
import type { FileTable } from "./file-table.ts";
import type { PathStage } from "./path-stage.ts";
import { AT_SYMLINK_NOFOLLOW, O, RENAME_EXCHANGE } from "../protocol/linux.ts";

/** What a service thread needs to serve requests. */
export interface DispatchContext {
  /** Filesystem instances by mount id (this thread's own instances). */
  readonly mounts: readonly (FileSystem | undefined)[];
  /** The shared open-file table. */
  readonly files: FileTable;
  /** Owner client id of each request buffer (0 = free), shared with the registry. */
  readonly bufferOwners: Int32Array;
  /** Request buffer `index` as bytes. */
  buffer(index: number): Uint8Array;
  /** Paths staged ahead of the requests that use them, per request buffer (absent: `stage_paths` answers ENOSYS). */
  readonly stage?: PathStage;
  /** Called for a handler that threw something other than FsError (a bug); the request is answered -EIO. */
  onBug(error: unknown, operation: string): void;
  /**
   * Called after `client` changed a file (write, pwrite, ftruncate, truncate, chmod, chown, utimens, link; unlink of a
   * name, rename onto one: its link count) through `file` (its descriptor, or a key of the path or inode); `stat` tells
   * which file, and is called only if someone watches (see change-log.ts).
   */
  changed?(client: number, file: number | string, stat: () => { readonly st_dev: number; readonly st_ino: number }): void;
  /**
   * Whether `client`'s changes are told now (someone watches, and the client is not quiet; see change-log.ts): a name
   * change pays the lstat of the file whose name it takes away only then.
   */
  watching?(client: number): boolean;
  /**
   * Called after `client` changed a name of mount `mount` while {@link watching}: `kind` says how (see change-log.ts),
   * `path` (and `to` for "moved") which, `file` the file the name named.
   */
  named?(client: number, mount: number, kind: NameChangeKind, path: string, to?: string, file?: FileKey): void;
  /**
   * Called once after every request that may have changed a file or a name (the table's {@link mutates}), whether it
   * succeeded or not, before it is answered: bumps the tenant's mutation generation, which the preload library's
   * attribute cache checks (protocol/region-layout.ts, `mutations`).
   */
  mutated?(): void;
  /**
   * A channel host's view of the tenant's application region, which `pread_ref` and `pwrite_ref` refer to (absent at
   * the front, which answers them EINVAL: applications have no use for them).
   */
  readonly front?: FrontRegion;
  /** Counts bytes a `*_ref` request moved in place (the front region's bytes, never copied through a channel). */
  referenced?(bytes: number): void;
  /** Counts bytes a `copy_range` request copied inside this service (never sent up the channel). */
  copied?(bytes: number): void;
}

/** Which file: its device and inode numbers. */
type FileKey = { readonly st_dev: number; readonly st_ino: number };

/**
 * The answer to one request, built while it is served: a handler that writes a reply payload into the window says how
 * long it is here. One per {@link dispatch}, so nothing of one request's answer can reach another's.
 */
class Reply {
  /** Bytes of reply payload at the window's start. */
  length = 0;
  /** Bytes of path the request carried (for the garbage-collection pacer). */
  pathBytes = 0;

  /** Records `length` bytes of payload written; returns `result` (the handler's answer). */
  payload(length: number, result = length): number {
    this.length = length;
    return result;
  }
}

type Handler = (ctx: DispatchContext, request: RequestDescriptor, window: Uint8Array, reply: Reply) => number;

/**
 * The request's path(s) from its window, or from what its client staged (a window starting with NUL: path-stage.ts),
 * or a negative errno. Decodes a private copy: the window is shared memory its client (or a reply to another of its
 * requests) may rewrite meanwhile, and a decoder whose input changes between its length pass and its copy pass writes
 * past its output — in Bun, a crash of the whole router (a double fetch).
 */
function paths(ctx: DispatchContext, request: RequestDescriptor, window: Uint8Array, count: number, reply: Reply): string[] | number {
  let decoded: string[] | number = ERRNO.EINVAL;
  if (window.length > 0 && window[0] === 0) {
    // The stage is a private copy already.
    const staged = ctx.stage?.take(request.buffer, request.client) ?? ERRNO.EINVAL;
    if (typeof staged === "number") return -staged;
    decoded = decodePaths(staged, 0, staged.length, count, Infinity);
  } else {
    // `count` strings of at most DANAUS_PATH_MAX bytes each, NUL included, fit in `count * DANAUS_PATH_MAX`: decoding
    // the rest changes nothing. Most paths are shorter than one syscall argument, so a copy of that much is tried first.
    for (const bound of [PATH_MAX, DANAUS_PATH_MAX]) {
      const copy = window.slice(0, Math.min(window.length, count * bound));
      decoded = decodePaths(copy, 0, copy.length, count);
      if (typeof decoded !== "number" || copy.length === window.length) break;
    }
  }
  if (typeof decoded === "number") return -decoded;
  for (const path of decoded) reply.pathBytes += path.length;
  return decoded;
}

/** Every path operation's mount is `args[MOUNT]`, every descriptor operation's file `args[FD]` (checkOperations rules so). */
const MOUNT = ARG.stat.mount;
const FD = ARG.fstat.fd;

/** Runs `body` on the filesystem instance of the request's mount with its path(s). */
function onPath(
  count: number,
  body: (fs: FileSystem, paths: string[], request: RequestDescriptor, window: Uint8Array, ctx: DispatchContext, reply: Reply) => number,
): Handler {
  return (ctx, request, window, reply) => {
    const fs = ctx.mounts[request.args[MOUNT]!];
    if (fs === undefined) return -ERRNO.EINVAL;
    const decoded = paths(ctx, request, window, count, reply);
    if (typeof decoded === "number") return decoded;
    return body(fs, decoded, request, window, ctx, reply);
  };
}

/** Runs `body` on the open file of the requesting client the request names (EBADF when it is not one of its files). */
function onFile(
  body: (fs: FileSystem, handle: number, request: RequestDescriptor, window: Uint8Array, ctx: DispatchContext, reply: Reply) => number,
): Handler {
  return (ctx, request, window, reply) => {
    const file = ctx.files.acquire(request.args[FD]!, request.client);
    if (file === null) return -ERRNO.EBADF;
    try {
      const fs = ctx.mounts[file.mount];
      if (fs === undefined) return -ERRNO.EBADF;
      return body(fs, file.handle, request, window, ctx, reply);
    } finally {
      ctx.files.release(file);
    }
  };
}

/**
 * The bytes a `*_ref` request refers to: `count` bytes at `at` of the application region served by process `front`,
 * inside its request buffers; null (EINVAL) when there is no such region here or the range leaves the buffers.
 */
function referenced(ctx: DispatchContext, front: number, at: number, count: number): Uint8Array | null {
  const mapping = ctx.front?.of(front) ?? null;
  if (mapping === null || !Number.isSafeInteger(at) || !Number.isSafeInteger(count) || count < 0) return null;
  if (at < mapping.buffersStart || at + count > mapping.buffersEnd) return null;
  return mapping.bytes.subarray(at, at + count);
}

/**
 * A `*_ref` operation on the requesting client's open file: `io` reads into or writes from the referenced bytes
 * (EINVAL when they are not in the front's request buffers); a write is told to the watchers like any other.
 */
function onReference(
  op: "pread_ref" | "pwrite_ref" | "read_ref" | "write_ref",
  writes: boolean,
  io: (fs: FileSystem, handle: number, bytes: Uint8Array, args: readonly number[]) => number,
): Handler {
  const at = ARG[op];
  return onFile((fs, handle, request, _window, ctx) => {
    const a = request.args;
    const bytes = referenced(ctx, a[at.front]!, a[at.at]!, a[at.count]!);
    if (bytes === null) return -ERRNO.EINVAL;
    const count = io(fs, handle, bytes, a);
    ctx.referenced?.(count);
    return writes ? changed(ctx, request, count, () => fs.fstat(handle)) : count;
  });
}

/** Most bytes one `copy_range` request copies (the caller asks again for the rest), so no request holds its thread long. */
const COPY_RANGE_MAX = 16 * 1024 * 1024;

/**
 * Copies up to `count` bytes of `input` in `from` at `inOffset` to `out` in `to` at `offset` through `scratch`; returns
 * the bytes copied (fewer at the end of `input`).
 */
function copyRange(from: FileSystem, input: number, inOffset: number, to: FileSystem, out: number, offset: number, count: number, scratch: Uint8Array): number {
  let done = 0;
  while (done < count) {
    const got = from.pread(input, scratch.subarray(0, Math.min(scratch.length, count - done)), inOffset + done);
    if (got === 0) break;
    for (let put = 0; put < got; ) {
      const wrote = to.pwrite(out, scratch.subarray(put, got), offset + done + put);
      if (wrote <= 0) return done + put; // a file that takes no more (as write(2) answering 0)
      put += wrote;
    }
    done += got;
  }
  return done;
}

/** Writes `stat` as the reply payload; EINVAL when the window cannot hold it. */
function statReply(window: Uint8Array, stat: Parameters<typeof encodeStat>[2], reply: Reply): number {
  if (window.length < STAT.size) return -ERRNO.EINVAL;
  encodeStat(new DataView(window.buffer, window.byteOffset, window.length), 0, stat);
  return reply.payload(STAT.size, 0);
}

/** Tells `ctx` that the request's client changed the file `stat` describes, through `file` (default: the request's descriptor); returns `result`. */
function changed(
  ctx: DispatchContext,
  request: RequestDescriptor,
  result: number,
  stat: () => { readonly st_dev: number; readonly st_ino: number },
  file: number | string = request.args[FD]!,
): number {
  ctx.changed?.(request.client, file, stat);
  return result;
}

/** `path` of the request's mount, as a key of what a client changed (two mounts may hold the same path). */
function onMount(request: RequestDescriptor, path: string): string {
  return `${request.args[MOUNT]}:${path}`;
}

/** The file `path` names (not following a last symlink) when the request's client is watched, else undefined. */
function watchedFile(ctx: DispatchContext, request: RequestDescriptor, fs: FileSystem, path: string): FileKey | undefined {
  if (ctx.watching?.(request.client) !== true) return undefined;
  try {
    return fs.lstat(path);
  } catch {
    return undefined; // the change itself answers what is wrong with the path
  }
}

/** Tells `ctx` that the request's client changed the name `path` of its mount as `kind`; returns 0. */
function named(ctx: DispatchContext, request: RequestDescriptor, kind: NameChangeKind, path: string, to?: string, file?: FileKey): number {
  if (ctx.named !== undefined && ctx.watching?.(request.client) === true) ctx.named(request.client, request.args[MOUNT]!, kind, path, to, file);
  return 0;
}

/**
 * rename(2) through the ring, told to the watchers: the name moves (RENAME_EXCHANGE: both names lose their files),
 * and a file the new name replaced has one link fewer.
 */
function renameTold(ctx: DispatchContext, request: RequestDescriptor, fs: FileSystem, from: string, to: string, flags: number): number {
  const moving = watchedFile(ctx, request, fs, from);
  const replaced = moving === undefined ? undefined : watchedFile(ctx, request, fs, to);
  fs.rename(from, to, flags);
  if (moving === undefined) {
    named(ctx, request, "removed", from);
    return named(ctx, request, "added", to);
  }
  if (flags & RENAME_EXCHANGE) {
    named(ctx, request, "removed", from, undefined, moving);
    return named(ctx, request, "removed", to, undefined, replaced);
  }
  if (replaced !== undefined) {
    // Two names of one file: rename(2) did nothing.
    if (replaced.st_dev === moving.st_dev && replaced.st_ino === moving.st_ino) return 0;
    changed(ctx, request, 0, () => replaced, `i${replaced.st_dev}:${replaced.st_ino}`);
  }
  return named(ctx, request, "moved", from, to, moving);
}

/**
 * What a request weighs for the garbage-collection pacer (gc-pacer.ts): one request, plus k(k + 1) for a path of
 * k × 4 KiB. A path deeper than PATH_MAX leaves copies of itself behind, and a union looks it up one name at a time
 * with the path so far, so its garbage grows with the square of its length (a 12 KB path: ~130 KB).
 */
function weightOf(pathBytes: number): number {
  const k = pathBytes >>> 12;
  return 1 + k * (k + 1);
}

const HANDLERS: Record<Operation["name"], Handler> = {
  null: () => 0,
  stage_paths: (ctx, request, window) =>
    ctx.stage?.put(request.buffer, request.client, request.args[ARG.stage_paths.offset]!, request.args[ARG.stage_paths.total]!, window) ?? -ERRNO.ENOSYS,
  open: (ctx, request, window, reply) => {
    const mount = request.args[ARG.open.mount]!;
    const flags = request.args[ARG.open.flags]!;
    const mode = request.args[ARG.open.mode]!;
    const fs = ctx.mounts[mount];
    if (fs === undefined) return -ERRNO.EINVAL;
    const decoded = paths(ctx, request, window, 1, reply);
    if (typeof decoded === "number") return decoded;
    const handle = fs.open(decoded[0]!, flags, mode);
    // Created, or opened if it was there: told as a name that may be new either way (no stat to tell them apart).
    if (flags & O.CREAT) named(ctx, request, "added", decoded[0]!);
    let node: number;
    try {
      node = fs.fifoNode(handle);
      // A FIFO: the client reopens the node itself (the reply needs room for it: a hostile window may have none).
      if (node >= 0 && window.length < FIFO_NODE.size) throw new FsError(ERRNO.EINVAL, "open");
    } catch (error) {
      fs.close(handle);
      throw error;
    }
    const fd = ctx.files.insert(request.client, mount, handle, (flags & O.DIRECTORY) !== 0);
    if (fd < 0) {
      fs.close(handle);
      return -ERRNO.EMFILE;
    }
    if (node < 0) return fd;
    FIFO_NODE.write(new DataView(window.buffer, window.byteOffset, window.length), 0, { pid: process.pid, fd: node });
    return reply.payload(FIFO_NODE.size, fd);
  },
  close: (ctx, request) => {
    const removed = ctx.files.remove(request.args[ARG.close.fd]!, request.client);
    if (removed === null) return -ERRNO.EBADF;
    ctx.mounts[removed.mount]?.close(removed.handle);
    return 0;
  },
  read: onFile((fs, handle, request, window, _ctx, reply) => reply.payload(fs.read(handle, window.subarray(0, Math.min(request.args[ARG.read.count]!, window.length))))),
  pread: onFile((fs, handle, request, window, _ctx, reply) =>
    reply.payload(fs.pread(handle, window.subarray(0, Math.min(request.args[ARG.pread.count]!, window.length)), request.args[ARG.pread.offset]!)),
  ),
  write: onFile((fs, handle, request, window, ctx) => changed(ctx, request, fs.write(handle, window), () => fs.fstat(handle))),
  pwrite: onFile((fs, handle, request, window, ctx) => changed(ctx, request, fs.pwrite(handle, window, request.args[ARG.pwrite.offset]!), () => fs.fstat(handle))),
  lseek: onFile((fs, handle, request) => fs.lseek(handle, request.args[ARG.lseek.offset]!, request.args[ARG.lseek.whence]!)),
  fstat: onFile((fs, handle, _request, window, _ctx, reply) => statReply(window, fs.fstat(handle), reply)),
  stat: onPath(1, (fs, [path], _request, window, _ctx, reply) => statReply(window, fs.stat(path!), reply)),
  lstat: onPath(1, (fs, [path], _request, window, _ctx, reply) => statReply(window, fs.lstat(path!), reply)),
  ftruncate: onFile((fs, handle, request, _window, ctx) => (fs.ftruncate(handle, request.args[ARG.ftruncate.length]!), changed(ctx, request, 0, () => fs.fstat(handle)))),
  truncate: onPath(1, (fs, [path], request, _window, ctx) => (fs.truncate(path!, request.args[ARG.truncate.length]!), changed(ctx, request, 0, () => fs.stat(path!), onMount(request, path!)))),
  fsync: onFile((fs, handle) => (fs.fsync(handle), 0)),
  fdatasync: onFile((fs, handle) => (fs.fdatasync(handle), 0)),
  mkdir: onPath(1, (fs, [path], request, _window, ctx) => (fs.mkdir(path!, request.args[ARG.mkdir.mode]!), named(ctx, request, "added", path!))),
  mknod: onPath(1, (fs, [path], request, _window, ctx) => (fs.mknod(path!, request.args[ARG.mknod.mode]!, request.args[ARG.mknod.rdev]!), named(ctx, request, "added", path!))),
  rmdir: onPath(1, (fs, [path], request, _window, ctx) => {
    const gone = watchedFile(ctx, request, fs, path!);
    fs.rmdir(path!);
    return named(ctx, request, "removed", path!, undefined, gone);
  }),
  unlink: onPath(1, (fs, [path], request, _window, ctx) => {
    const gone = watchedFile(ctx, request, fs, path!);
    fs.unlink(path!);
    // The file's other names (if any) have one link fewer.
    if (gone !== undefined) changed(ctx, request, 0, () => gone, `i${gone.st_dev}:${gone.st_ino}`);
    return named(ctx, request, "removed", path!, undefined, gone);
  }),
  rename: onPath(2, (fs, [from, to], request, _window, ctx) => renameTold(ctx, request, fs, from!, to!, request.args[ARG.rename.flags]!)),
  readdir: onFile((fs, handle, request, window, ctx, reply) => {
    if (window.length < DIRENT_NAME_OFFSET + 264) return -ERRNO.EINVAL;
    // A descriptor opened without O_DIRECTORY becomes a directory stream, counted against the limit, when it is read as one.
    if (!ctx.files.markDirStream(request.args[ARG.readdir.fd]!, request.client)) return -ERRNO.EMFILE;
    const entries = fs.readdir(handle, request.args[ARG.readdir.cookie]!, window.length);
    const { count, length } = encodeDirents(entries, window, 0, window.length);
    return reply.payload(length, count);
  }),
  symlink: onPath(2, (fs, [target, path], request, _window, ctx) => (fs.symlink(target!, path!), named(ctx, request, "added", path!))),
  readlink: onPath(1, (fs, [path], _request, window, _ctx, reply) => {
    const target = fs.readlink(path!);
    if (target.length > window.length) return -ERRNO.ENAMETOOLONG;
    // A byte string (names.ts): one char per byte.
    for (let i = 0; i < target.length; i++) window[i] = target.charCodeAt(i);
    return reply.payload(target.length);
  }),
  // A new link changes the file's link count, seen through its other names.
  link: onPath(2, (fs, [existing, path], request, _window, ctx) => {
    fs.link(existing!, path!);
    changed(ctx, request, 0, () => fs.lstat(path!), onMount(request, path!));
    return named(ctx, request, "added", path!);
  }),
  chmod: onPath(1, (fs, [path], request, _window, ctx) => (fs.chmod(path!, request.args[ARG.chmod.mode]!), changed(ctx, request, 0, () => fs.stat(path!), onMount(request, path!)))),
  chown: onPath(1, (fs, [path], request, _window, ctx) => {
    const flags = request.args[ARG.chown.flags]!;
    fs.chown(path!, request.args[ARG.chown.uid]!, request.args[ARG.chown.gid]!, flags);
    return changed(ctx, request, 0, () => (flags & AT_SYMLINK_NOFOLLOW ? fs.lstat(path!) : fs.stat(path!)), onMount(request, path!));
  }),
  utimens: onPath(1, (fs, [path], request, _window, ctx) => {
    const a = request.args;
    const at = ARG.utimens;
    const flags = a[at.flags]!;
    fs.utimens(path!, { sec: a[at.atime_sec]!, nsec: a[at.atime_nsec]! }, { sec: a[at.mtime_sec]!, nsec: a[at.mtime_nsec]! }, flags);
    return changed(ctx, request, 0, () => (flags & AT_SYMLINK_NOFOLLOW ? fs.lstat(path!) : fs.stat(path!)), onMount(request, path!));
  }),
  access: onPath(1, (fs, [path], request) => (fs.access(path!, request.args[ARG.access.mode]!), 0)),
  // Between services: the data stays where the application put it (or wants it), in the front's region.
  pread_ref: onReference("pread_ref", false, (fs, handle, bytes, a) => fs.pread(handle, bytes, a[ARG.pread_ref.offset]!)),
  pwrite_ref: onReference("pwrite_ref", true, (fs, handle, bytes, a) => fs.pwrite(handle, bytes, a[ARG.pwrite_ref.offset]!)),
  read_ref: onReference("read_ref", false, (fs, handle, bytes) => fs.read(handle, bytes)),
  write_ref: onReference("write_ref", true, (fs, handle, bytes) => fs.write(handle, bytes)),
  copy_range: onFile((fs, handle, request, window, ctx) => {
    const a = request.args;
    const at = ARG.copy_range;
    const [offset, inOffset, count] = [a[at.offset]!, a[at.in_offset]!, a[at.count]!];
    if (![offset, inOffset, count].every((n) => Number.isSafeInteger(n) && n >= 0) || window.length === 0) return -ERRNO.EINVAL;
    const input = ctx.files.acquire(a[at.in_fd]!, request.client);
    if (input === null) return -ERRNO.EBADF;
    try {
      const from = ctx.mounts[input.mount];
      if (from === undefined) return -ERRNO.EBADF;
      const done = copyRange(from, input.handle, inOffset, fs, handle, offset, Math.min(count, COPY_RANGE_MAX), window);
      ctx.copied?.(done);
      return changed(ctx, request, done, () => fs.fstat(handle));
    } finally {
      ctx.files.release(input);
    }
  }),
  statfs: onPath(1, (fs, [path], _request, window, _ctx, reply) => {
    if (window.length < STATFS.size) return -ERRNO.EINVAL;
    encodeStatfs(new DataView(window.buffer, window.byteOffset, window.length), 0, fs.statfs(path!));
    return reply.payload(STATFS.size, 0);
  }),
};

/** A served request's outcome: the result to complete the entry with, the reply payload length, and its weight for the GC pacer. */
export interface Served {
  result: number;
  replyLength: number;
  weight: number;
}

/** The outcome of a request served with `reply`. */
function answer(reply: Reply, result: number, replyLength = 0): Served {
  return { result, replyLength, weight: weightOf(reply.pathBytes) };
}

/**
 * Serves one request whose descriptor passed the ring's validation. Checks that the request buffer belongs to the
 * requesting client (EINVAL otherwise), then runs the operation. Returns the result and reply length: the one answer
 * of this request, built in its own {@link Reply}.
 */
export function dispatch(ctx: DispatchContext, request: RequestDescriptor): Served {
  const operation = lookupOperation(request.opcode);
  if (typeof operation === "number") return { result: -operation, replyLength: 0, weight: 1 };
  if (ctx.bufferOwners[request.buffer] !== (request.client | 0) || request.client === 0) return { result: -ERRNO.EINVAL, replyLength: 0, weight: 1 };
  const window = ctx.buffer(request.buffer).subarray(request.offset, request.offset + request.length);
  const reply = new Reply();
  const mutating = ctx.mutated !== undefined && mutates(operation, request.args);
  try {
    const result = HANDLERS[operation.name](ctx, request, window, reply);
    // A result the reply cannot carry exactly, e.g. lseek to 2^62 in a directory (ext4 takes 63-bit hash positions):
    // EOVERFLOW, as lseek(2) answers for an offset its return type cannot hold.
    if (!Number.isSafeInteger(result)) return answer(reply, -ERRNO.EOVERFLOW);
    if (result < 0) return answer(reply, result);
    if (!Number.isInteger(reply.length) || reply.length < 0 || reply.length > window.length) {
      ctx.onBug(new RangeError(`reply length ${reply.length} outside the ${window.length}-byte window`), operation.name);
      return answer(reply, -ERRNO.EIO);
    }
    return answer(reply, result, reply.length);
  } catch (error) {
    if (error instanceof FsError) return answer(reply, -error.errno);
    ctx.onBug(error, operation.name);
    return answer(reply, -ERRNO.EIO);
  } finally {
    if (mutating) ctx.mutated!();
  }
}
