/**
 * @module dispatch — serves one request taken off a queue: checks who is asking, finds the filesystem instance of the
 * mount or the open file, calls it, writes the reply payload into the caller's window and returns the result
 * (≥ 0, or -errno). Never throws: a handler that throws an unexpected error is answered -EIO.
 */
import {
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
} from "../../kernel/ipc/protocol/index.ts";
import type { NameChangeKind } from "./change-log.ts";
import type { FileTable } from "./file-table.ts";
import { AT_SYMLINK_NOFOLLOW, O, RENAME_EXCHANGE } from "../../kernel/ipc/protocol/linux.ts";

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
}

/** Which file: its device and inode numbers. */
type FileKey = { readonly st_dev: number; readonly st_ino: number };

type Handler = (ctx: DispatchContext, request: RequestDescriptor, window: Uint8Array) => number;

/**
 * The request's path(s) from its window, or a negative errno. Decodes a private copy: the window is shared memory its
 * client (or a reply to another of its requests) may rewrite meanwhile, and a decoder whose input changes between its
 * length pass and its copy pass writes past its output — in Bun, a crash of the whole router (a double fetch).
 */
function paths(request: RequestDescriptor, window: Uint8Array, count: number): string[] | number {
  // `count` strings of at most DANAUS_PATH_MAX bytes each, NUL included, fit in `count * DANAUS_PATH_MAX`: decoding the
  // rest changes nothing. Most paths are shorter than one syscall argument, so a copy of that much is tried first.
  let decoded: string[] | number = ERRNO.EINVAL;
  for (const bound of [PATH_MAX, DANAUS_PATH_MAX]) {
    const copy = window.slice(0, Math.min(window.length, count * bound));
    decoded = decodePaths(copy, 0, copy.length, count);
    if (typeof decoded !== "number" || copy.length === window.length) break;
  }
  if (typeof decoded === "number") return -decoded;
  for (const path of decoded) pathBytes += path.length;
  return decoded;
}

/** Runs `body` on the filesystem instance of the request's mount (args[0]) with its path(s). */
function onPath(count: number, body: (fs: FileSystem, paths: string[], request: RequestDescriptor, window: Uint8Array, ctx: DispatchContext) => number): Handler {
  return (ctx, request, window) => {
    const fs = ctx.mounts[request.args[0]!];
    if (fs === undefined) return -ERRNO.EINVAL;
    const decoded = paths(request, window, count);
    if (typeof decoded === "number") return decoded;
    return body(fs, decoded, request, window, ctx);
  };
}

/** Runs `body` on the open file args[0] of the requesting client (EBADF when it is not one of its files). */
function onFile(body: (fs: FileSystem, handle: number, request: RequestDescriptor, window: Uint8Array, ctx: DispatchContext) => number): Handler {
  return (ctx, request, window) => {
    const file = ctx.files.acquire(request.args[0]!, request.client);
    if (file === null) return -ERRNO.EBADF;
    try {
      const fs = ctx.mounts[file.mount];
      if (fs === undefined) return -ERRNO.EBADF;
      return body(fs, file.handle, request, window, ctx);
    } finally {
      ctx.files.release(file);
    }
  };
}

function statReply(window: Uint8Array, stat: Parameters<typeof encodeStat>[2]): number {
  if (window.length < STAT.size) return -ERRNO.EINVAL;
  encodeStat(new DataView(window.buffer, window.byteOffset, window.length), 0, stat);
  return 0;
}

/** Tells `ctx` that the request's client changed the file `stat` describes, through `file` (default: the descriptor args[0]); returns `result`. */
function changed(
  ctx: DispatchContext,
  request: RequestDescriptor,
  result: number,
  stat: () => { readonly st_dev: number; readonly st_ino: number },
  file: number | string = request.args[0]!,
): number {
  ctx.changed?.(request.client, file, stat);
  return result;
}

/** `path` of the request's mount (args[0]), as a key of what a client changed (two mounts may hold the same path). */
function onMount(request: RequestDescriptor, path: string): string {
  return `${request.args[0]}:${path}`;
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

/** Tells `ctx` that the request's client changed the name `path` of its mount (args[0]) as `kind`; returns 0. */
function named(ctx: DispatchContext, request: RequestDescriptor, kind: NameChangeKind, path: string, to?: string, file?: FileKey): number {
  if (ctx.named !== undefined && ctx.watching?.(request.client) === true) ctx.named(request.client, request.args[0]!, kind, path, to, file);
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

/** The reply payload length of the last handled request (set by handlers that write one). */
let replyLength = 0;
/** Bytes of path the last handled request carried. */
let pathBytes = 0;

/**
 * What the last {@link dispatch} weighs for the garbage-collection pacer (gc-pacer.ts): one request, plus k(k + 1)
 * for a path of k × 4 KiB. A path deeper than PATH_MAX leaves copies of itself behind, and a union looks it up one
 * name at a time with the path so far, so its garbage grows with the square of its length (a 12 KB path: ~130 KB).
 */
export function dispatchWeight(): number {
  const k = pathBytes >>> 12;
  return 1 + k * (k + 1);
}

const HANDLERS: Record<Operation["name"], Handler> = {
  null: () => 0,
  open: (ctx, request, window) => {
    const [mount, flags, mode] = request.args as [number, number, number];
    const fs = ctx.mounts[mount];
    if (fs === undefined) return -ERRNO.EINVAL;
    const decoded = paths(request, window, 1);
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
    if (node >= 0) {
      FIFO_NODE.write(new DataView(window.buffer, window.byteOffset, window.length), 0, { pid: process.pid, fd: node });
      replyLength = FIFO_NODE.size;
    }
    return fd;
  },
  close: (ctx, request) => {
    const removed = ctx.files.remove(request.args[0]!, request.client);
    if (removed === null) return -ERRNO.EBADF;
    ctx.mounts[removed.mount]?.close(removed.handle);
    return 0;
  },
  read: onFile((fs, handle, request, window) => (replyLength = fs.read(handle, window.subarray(0, Math.min(request.args[1]!, window.length))))),
  pread: onFile((fs, handle, request, window) => (replyLength = fs.pread(handle, window.subarray(0, Math.min(request.args[1]!, window.length)), request.args[2]!))),
  write: onFile((fs, handle, request, window, ctx) => changed(ctx, request, fs.write(handle, window), () => fs.fstat(handle))),
  pwrite: onFile((fs, handle, request, window, ctx) => changed(ctx, request, fs.pwrite(handle, window, request.args[1]!), () => fs.fstat(handle))),
  lseek: onFile((fs, handle, request) => fs.lseek(handle, request.args[1]!, request.args[2]!)),
  fstat: onFile((fs, handle, _request, window) => {
    const result = statReply(window, fs.fstat(handle));
    if (result === 0) replyLength = STAT.size;
    return result;
  }),
  stat: onPath(1, (fs, [path], _request, window) => {
    const result = statReply(window, fs.stat(path!));
    if (result === 0) replyLength = STAT.size;
    return result;
  }),
  lstat: onPath(1, (fs, [path], _request, window) => {
    const result = statReply(window, fs.lstat(path!));
    if (result === 0) replyLength = STAT.size;
    return result;
  }),
  ftruncate: onFile((fs, handle, request, _window, ctx) => (fs.ftruncate(handle, request.args[1]!), changed(ctx, request, 0, () => fs.fstat(handle)))),
  truncate: onPath(1, (fs, [path], request, _window, ctx) => (fs.truncate(path!, request.args[1]!), changed(ctx, request, 0, () => fs.stat(path!), onMount(request, path!)))),
  fsync: onFile((fs, handle) => (fs.fsync(handle), 0)),
  fdatasync: onFile((fs, handle) => (fs.fdatasync(handle), 0)),
  mkdir: onPath(1, (fs, [path], request, _window, ctx) => (fs.mkdir(path!, request.args[1]!), named(ctx, request, "added", path!))),
  mknod: onPath(1, (fs, [path], request, _window, ctx) => (fs.mknod(path!, request.args[1]!, request.args[2]!), named(ctx, request, "added", path!))),
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
  rename: onPath(2, (fs, [from, to], request, _window, ctx) => renameTold(ctx, request, fs, from!, to!, request.args[1]!)),
  readdir: onFile((fs, handle, request, window, ctx) => {
    if (window.length < DIRENT_NAME_OFFSET + 264) return -ERRNO.EINVAL;
    // A descriptor opened without O_DIRECTORY becomes a directory stream, counted against the limit, when it is read as one.
    if (!ctx.files.markDirStream(request.args[0]!, request.client)) return -ERRNO.EMFILE;
    const entries = fs.readdir(handle, request.args[1]!, window.length);
    const { count, length } = encodeDirents(entries, window, 0, window.length);
    replyLength = length;
    return count;
  }),
  symlink: onPath(2, (fs, [target, path], request, _window, ctx) => (fs.symlink(target!, path!), named(ctx, request, "added", path!))),
  readlink: onPath(1, (fs, [path], _request, window) => {
    const target = fs.readlink(path!);
    if (target.length > window.length) return -ERRNO.ENAMETOOLONG;
    // A byte string (names.ts): one char per byte.
    for (let i = 0; i < target.length; i++) window[i] = target.charCodeAt(i);
    replyLength = target.length;
    return target.length;
  }),
  // A new link changes the file's link count, seen through its other names.
  link: onPath(2, (fs, [existing, path], request, _window, ctx) => {
    fs.link(existing!, path!);
    changed(ctx, request, 0, () => fs.lstat(path!), onMount(request, path!));
    return named(ctx, request, "added", path!);
  }),
  chmod: onPath(1, (fs, [path], request, _window, ctx) => (fs.chmod(path!, request.args[1]!), changed(ctx, request, 0, () => fs.stat(path!), onMount(request, path!)))),
  chown: onPath(1, (fs, [path], request, _window, ctx) => {
    fs.chown(path!, request.args[1]!, request.args[2]!, request.args[3]!);
    return changed(ctx, request, 0, () => (request.args[3]! & AT_SYMLINK_NOFOLLOW ? fs.lstat(path!) : fs.stat(path!)), onMount(request, path!));
  }),
  utimens: onPath(1, (fs, [path], request, _window, ctx) => {
    const [, atimeSec, atimeNsec, mtimeSec, mtimeNsec, flags] = request.args as number[];
    fs.utimens(path!, { sec: atimeSec!, nsec: atimeNsec! }, { sec: mtimeSec!, nsec: mtimeNsec! }, flags!);
    return changed(ctx, request, 0, () => (flags! & AT_SYMLINK_NOFOLLOW ? fs.lstat(path!) : fs.stat(path!)), onMount(request, path!));
  }),
  access: onPath(1, (fs, [path], request) => (fs.access(path!, request.args[1]!), 0)),
  statfs: onPath(1, (fs, [path], _request, window) => {
    if (window.length < STATFS.size) return -ERRNO.EINVAL;
    encodeStatfs(new DataView(window.buffer, window.byteOffset, window.length), 0, fs.statfs(path!));
    replyLength = STATFS.size;
    return 0;
  }),
};

/** A served request's outcome: the result to complete the entry with and the reply payload length. */
export interface Served {
  result: number;
  replyLength: number;
}

/**
 * Serves one request whose descriptor passed the ring's validation. Checks that the request buffer belongs to the
 * requesting client (EINVAL otherwise), then runs the operation. Returns the result and reply length.
 */
export function dispatch(ctx: DispatchContext, request: RequestDescriptor): Served {
  pathBytes = 0;
  const operation = lookupOperation(request.opcode);
  if (typeof operation === "number") return { result: -operation, replyLength: 0 };
  if (ctx.bufferOwners[request.buffer] !== (request.client | 0) || request.client === 0) return { result: -ERRNO.EINVAL, replyLength: 0 };
  const window = ctx.buffer(request.buffer).subarray(request.offset, request.offset + request.length);
  replyLength = 0;
  const mutating = ctx.mutated !== undefined && mutates(operation, request.args);
  try {
    const result = HANDLERS[operation.name](ctx, request, window);
    // A result the reply cannot carry exactly, e.g. lseek to 2^62 in a directory (ext4 takes 63-bit hash positions):
    // EOVERFLOW, as lseek(2) answers for an offset its return type cannot hold.
    if (!Number.isSafeInteger(result)) return { result: -ERRNO.EOVERFLOW, replyLength: 0 };
    if (result < 0) return { result, replyLength: 0 };
    if (!Number.isInteger(replyLength) || replyLength < 0 || replyLength > window.length) {
      ctx.onBug(new RangeError(`reply length ${replyLength} outside the ${window.length}-byte window`), operation.name);
      return { result: -ERRNO.EIO, replyLength: 0 };
    }
    return { result, replyLength };
  } catch (error) {
    if (error instanceof FsError) return { result: -error.errno, replyLength: 0 };
    ctx.onBug(error, operation.name);
    return { result: -ERRNO.EIO, replyLength: 0 };
  } finally {
    if (mutating) ctx.mutated!();
  }
}
