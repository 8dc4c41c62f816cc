/**
 * @module cached-file-system — the shared client cache as a FileSystem wrapping a backend FileSystem, one instance
 * per thread over the one SharedCache of the tenant process.
 *
 * Consistency (paper §3.4): a write that returned is in the cache and visible to every later read and stat through
 * any thread of the process. Between hosts (or with writers that bypass this process) the rule is close-to-open:
 * `open` compares the backend's (size, mtime, ctime) with the ones the file's blocks were filled under and drops
 * them when they differ and the process holds no unwritten data and no writable handle of the file; cached
 * attributes and names live at most `attrTimeoutMs`. In "async" mode dirty data reaches the backend at the latest
 * `expireMs` after it was written (plus a tick of `writebackMs`), when dirty data passes its limits, or on fsync,
 * fdatasync, close of the last writable handle, truncate and utimens of the file; a crash of the process loses
 * what was not written back yet, and fsync is the way to make a write durable. In "sync" mode every write reaches
 * the backend before it returns (a crash loses nothing the backend acknowledged). O_APPEND, O_SYNC/O_DSYNC and
 * O_DIRECT handles always write through; O_DIRECT reads bypass the cache after writing back the file.
 */
import { ERRNO, FsError, type Dirent, type FileSystem, type Stat, type Statfs, type Timespec } from "../../../kernel/ipc/protocol/index.ts";
import { AttributeCache, type AttrKind } from "./attr-cache.ts";
import { discardDirtyBlocks, dropFileBlocks, trimFileBlocks } from "./blocks.ts";
import {
  baselineMatches, dropReference, findFile, findOrAddFile, hasPendingData, releaseIfUnused, setBaseline, takeReference,
  type FileIdentity,
} from "./files.ts";
import { addHandle, closingWriteBackHandle, findHandle, handOverWriteBack, lastOpenWriter, removeHandle } from "./handles.ts";
import { F, FF, FileFlag, H, HandleFlag, HandleState, HDR, HF, NIL } from "./layout.ts";
import { AT_SYMLINK_NOFOLLOW, O, RENAME_EXCHANGE, S_IFMT, S_IFREG, SEEK } from "./linux.ts";
import type { CacheMemory } from "./memory.ts";
import type { OpenFile } from "./open-file.ts";
import { ReadAhead } from "./read-ahead.ts";
import { readCached } from "./read-path.ts";
import type { SharedCache } from "./shared-cache.ts";
import { overlayStat, pendingOverlay } from "./stat-overlay.ts";
import { takeWriteBackError, writeBackFile } from "./write-back.ts";
import { writeCached } from "./write-path.ts";
import { writeThrough } from "./write-through.ts";

/** Per-instance options. */
export interface CachedFileSystemOptions {
  /** Longest time a cached stat/lstat answer or negative name lookup is used, in ms. Default 1000; 0 disables. */
  readonly attrTimeoutMs?: number;
  /** The clock of attribute lifetimes (ms). Default: the cache's clock. */
  readonly now?: () => number;
}

/** Block indexes are unsigned 32-bit: files are cached up to 2^32 blocks; writes beyond answer EFBIG. */
const MAX_BLOCKS = 2 ** 32;
/** The largest read-ahead window (four 4 MiB Ceph objects), and never more than an eighth of the cache. */
const MAX_READ_AHEAD_BYTES = 16 * 1024 * 1024;

function isRegular(st: Stat): boolean {
  return (st.st_mode & S_IFMT) === S_IFREG;
}

function handleFlagsOf(flags: number): number {
  const access = flags & O.ACCMODE;
  let out = access === O.WRONLY ? HandleFlag.WRITE : access === O.RDWR ? HandleFlag.READ | HandleFlag.WRITE : HandleFlag.READ;
  if (flags & O.APPEND) out |= HandleFlag.APPEND;
  if (flags & O.DIRECT) out |= HandleFlag.DIRECT;
  if (flags & O.DSYNC) out |= HandleFlag.SYNC;
  return out;
}

/** fstat answers register() takes at most when the file keeps changing under it, before it trusts the last one. */
const REGISTER_ATTEMPTS = 8;

/** What another thread's write-back, close or truncate changes in a file slot: if it is unchanged, so is the backend. */
function settledState(m: CacheMemory, file: number): string {
  const w = m.i32;
  const f = m.f(file);
  const ff = m.ff(file);
  const n = m.f64;
  return [w[f + F.DIRTY], w[f + F.INFLIGHT], w[f + F.ACTIVE], w[f + F.WRITERS], n[ff + FF.SIZE], n[ff + FF.BASE_SIZE], n[ff + FF.BASE_MTIME_SEC], n[ff + FF.BASE_MTIME_NSEC], n[ff + FF.BASE_CTIME_SEC], n[ff + FF.BASE_CTIME_NSEC]].join(",");
}

/**
 * A FileSystem that caches `inner` in the shared cache `cache` (attached in this thread). `backendId` names the
 * backend: instances that accept each other's handles and share one (st_dev, st_ino) namespace — every mount of
 * one backend, in every thread — pass the same number, so their files are cached once. A handle is cached only if
 * it was opened through a CachedFileSystem of the cache (any thread); it can then be used through any of them.
 * Errors are the inner's FsErrors, plus ENFILE when the cache's handle table is full and EFBIG past the largest
 * cacheable offset (2^32 blocks).
 */
export class CachedFileSystem implements FileSystem {
  private readonly m: CacheMemory;
  private readonly attrs: AttributeCache;
  private readonly readAhead: ReadAhead;
  private readonly writeBehind: boolean;
  private readonly maxBytes: number;

  constructor(
    readonly inner: FileSystem,
    readonly cache: SharedCache,
    readonly backendId: number,
    options: CachedFileSystemOptions = {},
  ) {
    if (!Number.isInteger(backendId) || backendId < -(2 ** 31) || backendId >= 2 ** 31) throw new RangeError(`backendId ${backendId} is not a 32-bit integer`);
    this.m = cache.memory;
    this.writeBehind = cache.config.writeback === "async";
    this.maxBytes = MAX_BLOCKS * this.m.blockSize;
    this.readAhead = new ReadAhead(Math.min(MAX_READ_AHEAD_BYTES, Math.floor((cache.memory.geometry.blocks * cache.memory.blockSize) / 8)));
    this.attrs = new AttributeCache(() => this.m.generation(), options.now ?? cache.now, options.attrTimeoutMs ?? 1000);
    cache.registerBackend(backendId, inner);
  }

  /** open(2) through the backend; a regular file's handle is recorded in the shared handle table. ENFILE when it is full. */
  open(path: string, flags: number, mode: number): number {
    const changes = (flags & (O.CREAT | O.TRUNC)) !== 0;
    // O_TRUNC: hold the file's I/O lock across the open, so no write-back of older data lands after the truncation.
    const held = flags & O.TRUNC ? this.lockByPath(path) : NIL;
    try {
      const fd = this.inner.open(path, flags, mode);
      try {
        this.register(fd, flags);
      } catch (error) {
        this.closeQuietly(fd);
        throw error;
      }
      return fd;
    } finally {
      if (held !== NIL) this.unlockFile(held);
      if (changes) this.m.bumpGeneration();
    }
  }

  /** The backend's FIFO node for `fd` (a FIFO has no data to cache), -1 for any other handle. */
  fifoNode(fd: number): number {
    return this.inner.fifoNode(fd);
  }

  /** close(2). Writes back the file's dirty data first when no other handle can; reports a pending write-back error. */
  close(fd: number): void {
    const m = this.m;
    const w = m.i32;
    m.lock();
    const slot = findHandle(m, this.backendId, fd);
    if (slot === NIL || w[m.h(slot) + H.STATE] !== HandleState.OPEN) {
      m.unlock();
      this.inner.close(fd);
      return;
    }
    const h = m.h(slot);
    this.readAhead.forget(slot);
    w[h + H.STATE] = HandleState.CLOSING;
    const file = w[h + H.FILE]!;
    const writable = (w[h + H.FLAGS]! & HandleFlag.WRITE) !== 0;
    takeReference(m, file);
    m.unlock();
    let error = 0;
    try {
      // Another thread may be writing back through this handle right now; it takes microseconds.
      for (let users = Atomics.load(w, h + H.USERS); users > 0; users = Atomics.load(w, h + H.USERS)) Atomics.wait(w, h + H.USERS, users, 10);
      m.lock();
      const f = m.f(file);
      const mustFlush = handOverWriteBack(m, file, slot);
      const unlinked = (w[f + F.FLAGS]! & FileFlag.UNLINKED) !== 0 && w[f + F.OPENS] === 1;
      const lastWriter = writable && lastOpenWriter(m, file, slot);
      m.unlock();
      if (mustFlush) {
        // The data of an unlinked file nobody else has open can never be read again: drop it instead.
        if (unlinked && this.inner.fstat(fd).st_nlink === 0) this.dropBlocks(file);
        else writeBackFile(this.cache, file, { all: true, via: slot }, true);
      }
      error = takeWriteBackError(m, file);
      if (lastWriter) {
        // Our own writes changed the backend's mtime: blocks are valid under its attributes from now on.
        const st = this.inner.fstat(fd);
        m.lock();
        if (!hasPendingData(m, file)) setBaseline(m, file, st);
        m.unlock();
      }
    } finally {
      m.lock();
      removeHandle(m, slot);
      const f = m.f(file);
      if (w[f + F.OPENS] === 0 && (w[f + F.FLAGS]! & FileFlag.UNLINKED) !== 0) dropFileBlocks(m, file);
      dropReference(m, file);
      m.unlock();
    }
    this.inner.close(fd);
    if (error !== 0) throw new FsError(error, "close");
  }

  /** pread(2), from the cache. EBADF (not readable), EINVAL (negative offset). */
  pread(fd: number, into: Uint8Array, offset: number): number {
    const file = this.lookup(fd);
    if (file === undefined) return this.inner.pread(fd, into, offset);
    if ((file.flags & HandleFlag.READ) === 0) throw new FsError(ERRNO.EBADF, "pread");
    if (!(offset >= 0)) throw new FsError(ERRNO.EINVAL, "pread");
    if (into.length === 0) return 0;
    if (file.flags & HandleFlag.DIRECT || offset + into.length > this.maxBytes) {
      this.flush(file.file);
      return this.inner.pread(fd, into, offset);
    }
    return readCached(this.cache, this.inner, file, into, offset, this.readAhead.next(file.slot, offset, into.length));
  }

  /**
   * pwrite(2): into the cache ("async"), or to the backend and then the cache ("sync", O_APPEND, O_SYNC, O_DIRECT).
   * An O_APPEND handle writes at the end whatever the offset. EBADF (not writable), EINVAL, EFBIG, ENOSPC.
   */
  pwrite(fd: number, data: Uint8Array, offset: number): number {
    const file = this.lookup(fd);
    if (file === undefined) return this.inner.pwrite(fd, data, offset);
    return this.writeAt(file, data, offset).written;
  }

  /** read(2) at the handle's position (kept in the shared handle table), advancing it. */
  read(fd: number, into: Uint8Array): number {
    const file = this.lookup(fd);
    if (file === undefined) return this.inner.read(fd, into);
    const position = this.position(file.slot);
    const count = this.pread(fd, into, position);
    this.setPosition(file.slot, position + count);
    return count;
  }

  /** write(2) at the handle's position (the end for O_APPEND), advancing it. */
  write(fd: number, data: Uint8Array): number {
    const file = this.lookup(fd);
    if (file === undefined) return this.inner.write(fd, data);
    const done = this.writeAt(file, data, this.position(file.slot));
    this.setPosition(file.slot, done.offset + done.written);
    return done.written;
  }

  /** lseek(2); SEEK_END counts the cached size; SEEK_DATA/SEEK_HOLE ask the backend after a write-back. EINVAL. */
  lseek(fd: number, offset: number, whence: number): number {
    const file = this.lookup(fd);
    if (file === undefined) return this.inner.lseek(fd, offset, whence);
    let target: number;
    if (whence === SEEK.SET) target = offset;
    else if (whence === SEEK.CUR) target = this.position(file.slot) + offset;
    else if (whence === SEEK.END) target = this.cachedSize(file.file) + offset;
    else if (whence === SEEK.DATA || whence === SEEK.HOLE) {
      this.flush(file.file);
      target = this.inner.lseek(fd, offset, whence);
    } else throw new FsError(ERRNO.EINVAL, "lseek");
    if (!Number.isSafeInteger(target) || target < 0) throw new FsError(ERRNO.EINVAL, "lseek");
    this.setPosition(file.slot, target);
    return target;
  }

  /** fstat(2), with the cached size and write time while written data is not yet in the backend. */
  fstat(fd: number): Stat {
    return overlayStat(this.m, this.backendId, this.inner.fstat(fd));
  }

  /** stat(2), from the attribute cache while valid, with the pending-data overlay. */
  stat(path: string): Stat {
    return this.attributes("stat", path);
  }

  /** lstat(2), from the attribute cache while valid, with the pending-data overlay. */
  lstat(path: string): Stat {
    return this.attributes("lstat", path);
  }

  /** ftruncate(2): the backend first, then the cached blocks and size. EINVAL (not writable, negative), EBADF. */
  ftruncate(fd: number, length: number): void {
    const file = this.lookup(fd);
    if (file === undefined) {
      try {
        this.inner.ftruncate(fd, length);
      } finally {
        this.m.bumpGeneration();
      }
      return;
    }
    this.truncateFile(file.file, fd, length, false);
  }

  /** truncate(2), following symlinks; a cached file is truncated through a handle opened for it. EISDIR, ENOENT, EINVAL. */
  truncate(path: string, length: number): void {
    const m = this.m;
    let st: Stat | undefined;
    try {
      st = this.inner.stat(path);
    } catch (error) {
      if (!(error instanceof FsError)) throw error;
    }
    let cached = false;
    if (st !== undefined && isRegular(st)) {
      m.lock();
      cached = findFile(m, this.identity(st)) !== NIL;
      m.unlock();
    }
    if (!cached) {
      try {
        this.inner.truncate(path, length);
      } finally {
        m.bumpGeneration();
      }
      return;
    }
    // Through a handle, so the file truncated is certainly the file whose blocks are trimmed.
    const fd = this.inner.open(path, O.WRONLY | O.NONBLOCK | O.NOCTTY, 0);
    try {
      const opened = this.inner.fstat(fd);
      m.lock();
      const file = isRegular(opened) ? findOrAddFile(m, this.identity(opened), opened.st_size).slot : NIL;
      if (file !== NIL) takeReference(m, file);
      m.unlock();
      if (file === NIL) {
        this.inner.truncate(path, length);
        return;
      }
      try {
        this.truncateFile(file, fd, length, true);
      } finally {
        m.lock();
        dropReference(m, file);
        m.unlock();
      }
    } finally {
      this.closeQuietly(fd);
      m.bumpGeneration();
    }
  }

  /** fsync(2): writes back the file's dirty blocks, then the backend's fsync. Reports a pending write-back error. */
  fsync(fd: number): void {
    this.syncFile(fd, "fsync");
    this.inner.fsync(fd);
  }

  /** fdatasync(2): writes back the file's dirty blocks, then the backend's fdatasync. */
  fdatasync(fd: number): void {
    this.syncFile(fd, "fdatasync");
    this.inner.fdatasync(fd);
  }

  /** mkdir(2). */
  mkdir(path: string, mode: number): void {
    this.mutate(() => this.inner.mkdir(path, mode));
  }

  /** mknod(2) of a FIFO, socket, empty file or device: the backend's. */
  mknod(path: string, mode: number, rdev: number): void {
    this.mutate(() => this.inner.mknod(path, mode, rdev));
  }

  /** rmdir(2). */
  rmdir(path: string): void {
    this.mutate(() => this.inner.rmdir(path));
  }

  /** unlink(2). The last name of a file: its cached blocks go now, or at its last close when it is still open. */
  unlink(path: string): void {
    const st = this.holdsNoFiles() ? undefined : this.quietly(() => this.inner.lstat(path));
    this.mutate(() => this.inner.unlink(path));
    if (st !== undefined && isRegular(st) && st.st_nlink <= 1) this.forgetRemoved(st);
  }

  /** renameat2(2). A file replaced by the rename is forgotten like an unlinked one. */
  rename(from: string, to: string, flags: number): void {
    const replaced = flags & RENAME_EXCHANGE || this.holdsNoFiles() ? undefined : this.quietly(() => this.inner.lstat(to));
    const moved = replaced !== undefined && isRegular(replaced) ? this.quietly(() => this.inner.lstat(from)) : undefined;
    this.mutate(() => this.inner.rename(from, to, flags));
    if (replaced === undefined || !isRegular(replaced) || replaced.st_nlink > 1) return;
    if (moved !== undefined && moved.st_ino === replaced.st_ino && moved.st_dev === replaced.st_dev) return;
    this.forgetRemoved(replaced);
  }

  /** readdir: the backend's (directories are not cached). */
  readdir(fd: number, cookie: number, maxBytes?: number): Dirent[] {
    return this.inner.readdir(fd, cookie, maxBytes);
  }

  /** symlink(2). */
  symlink(target: string, path: string): void {
    this.mutate(() => this.inner.symlink(target, path));
  }

  /** readlink(2): the backend's. */
  readlink(path: string): string {
    return this.inner.readlink(path);
  }

  /** link(2). */
  link(existing: string, path: string): void {
    this.mutate(() => this.inner.link(existing, path));
  }

  /** chmod(2). */
  chmod(path: string, mode: number): void {
    this.mutate(() => this.inner.chmod(path, mode));
  }

  /** chown. */
  chown(path: string, uid: number, gid: number, flags: number): void {
    this.mutate(() => this.inner.chown(path, uid, gid, flags));
  }

  /** utimensat(2). Writes back the file's dirty data first, so a later write-back cannot move the mtime set here. */
  utimens(path: string, atime: Timespec, mtime: Timespec, flags: number): void {
    const st = this.quietly(() => (flags & AT_SYMLINK_NOFOLLOW ? this.inner.lstat(path) : this.inner.stat(path)));
    if (st !== undefined && isRegular(st)) {
      const m = this.m;
      m.lock();
      const file = findFile(m, this.identity(st));
      const pending = file !== NIL && hasPendingData(m, file);
      if (pending) takeReference(m, file);
      m.unlock();
      if (pending) {
        try {
          this.flush(file);
        } finally {
          m.lock();
          dropReference(m, file);
          m.unlock();
        }
      }
    }
    this.mutate(() => this.inner.utimens(path, atime, mtime, flags));
  }

  /** access(2): the backend's. */
  access(path: string, mode: number): void {
    this.inner.access(path, mode);
  }

  /** statfs(2): the backend's. */
  statfs(path: string): Statfs {
    return this.inner.statfs(path);
  }

  /** Writes back every dirty block of the handle's file (no backend fsync). EBADF for an unknown handle. */
  flushHandle(fd: number): void {
    const file = this.lookup(fd);
    if (file !== undefined) this.flush(file.file);
  }

  // ---- internals ----

  private identity(st: Stat): FileIdentity {
    return { backend: this.backendId, dev: st.st_dev, ino: st.st_ino };
  }

  /** The cached handle `fd`, or undefined when it is not one (a directory, or not open through the cache). */
  private lookup(fd: number): OpenFile | undefined {
    const m = this.m;
    m.lock();
    try {
      const slot = findHandle(m, this.backendId, fd);
      if (slot === NIL) return undefined;
      const h = m.h(slot);
      if (m.i32[h + H.STATE] !== HandleState.OPEN) return undefined;
      return { handle: fd, slot, file: m.i32[h + H.FILE]!, flags: m.i32[h + H.FLAGS]! };
    } finally {
      m.unlock();
    }
  }

  /**
   * Records a just-opened backend handle (regular files only) and validates its file's blocks (close-to-open).
   *
   * The backend's fstat comes before the lock, so another thread may meanwhile have written the file's data back and
   * set its baseline from a newer fstat (the router closing a gone client's handle, the write-back thread). A refresh
   * decided on the older answer would drop the blocks and take the size from before that write-back: a reader would
   * find the file empty. So a refresh is made only on an answer taken after the file's cached state was seen, and
   * found the same again under the lock.
   */
  private register(fd: number, flags: number): void {
    let st = this.inner.fstat(fd);
    if (!isRegular(st)) return;
    const m = this.m;
    const w = m.i32;
    let seen: string | undefined;
    for (let attempt = 0; ; attempt++) {
      let again = false;
      m.lock();
      try {
        const stale = findHandle(m, this.backendId, fd);
        if (stale !== NIL) {
          // The backend reused the number of a handle closed behind the cache's back. Dirty data that was to be
          // written back through it, with no other handle to do so, cannot reach the backend any more.
          const staleFile = w[m.h(stale) + H.FILE]!;
          removeHandle(m, stale);
          if (w[m.f(staleFile) + F.WB_HANDLE] === NIL && w[m.f(staleFile) + F.DIRTY]! > 0) {
            discardDirtyBlocks(m, staleFile);
            w[m.f(staleFile) + F.ERROR] = ERRNO.EIO;
          }
          releaseIfUnused(m, staleFile);
        }
        const { slot: file, created } = findOrAddFile(m, this.identity(st), st.st_size);
        if (file === NIL) throw new FsError(ERRNO.ENFILE, "open");
        const f = m.f(file);
        const ff = m.ff(file);
        const changedBehind = !created && !(flags & O.TRUNC) && !hasPendingData(m, file) && w[f + F.WRITERS] === 0 && !baselineMatches(m, file, st);
        if (changedBehind && attempt < REGISTER_ATTEMPTS) {
          const state = settledState(m, file);
          again = state !== seen;
          seen = state;
        }
        if (again) {
          releaseIfUnused(m, file);
        } else {
          if (created) {
            setBaseline(m, file, st);
          } else if (flags & O.TRUNC || changedBehind) {
            // Held across the drop: a file slot left without blocks, opens or references is freed by its last block.
            w[f + F.REFS]!++;
            dropFileBlocks(m, file);
            w[f + F.REFS]!--;
            m.f64[ff + FF.SIZE] = st.st_size;
            m.f64[ff + FF.BACKEND_SIZE] = st.st_size;
            setBaseline(m, file, st);
          }
          if (addHandle(m, this.backendId, fd, file, handleFlagsOf(flags)) === NIL) {
            releaseIfUnused(m, file);
            throw new FsError(ERRNO.ENFILE, "open");
          }
        }
      } finally {
        m.unlock();
      }
      if (!again) return;
      st = this.inner.fstat(fd);
    }
  }

  /** Takes a reference and the I/O lock of the cached file at `path` (stat, following symlinks); NIL when not cached. */
  private lockByPath(path: string): number {
    const st = this.quietly(() => this.inner.stat(path));
    if (st === undefined || !isRegular(st)) return NIL;
    const m = this.m;
    m.lock();
    const file = findFile(m, this.identity(st));
    if (file !== NIL) takeReference(m, file);
    m.unlock();
    if (file === NIL || this.cache.io.acquire(file, true)) return file;
    m.lock();
    dropReference(m, file);
    m.unlock();
    return NIL;
  }

  /** Undoes {@link lockByPath}. */
  private unlockFile(file: number): void {
    this.cache.io.release(file);
    this.m.lock();
    dropReference(this.m, file);
    this.m.unlock();
  }

  private writeAt(file: OpenFile, data: Uint8Array, offset: number): { written: number; offset: number } {
    if ((file.flags & HandleFlag.WRITE) === 0) throw new FsError(ERRNO.EBADF, "pwrite");
    if (!(offset >= 0)) throw new FsError(ERRNO.EINVAL, "pwrite");
    if (data.length === 0) return { written: 0, offset };
    if (file.flags & HandleFlag.APPEND) return writeThrough(this.cache, this.inner, file, data, offset, true);
    if (offset + data.length > this.maxBytes) throw new FsError(ERRNO.EFBIG, "pwrite");
    if (!this.writeBehind || file.flags & (HandleFlag.SYNC | HandleFlag.DIRECT)) {
      return writeThrough(this.cache, this.inner, file, data, offset);
    }
    return { written: writeCached(this.cache, this.inner, file, data, offset), offset };
  }

  private position(slot: number): number {
    this.m.lock();
    const position = this.m.f64[this.m.hf(slot) + HF.POSITION]!;
    this.m.unlock();
    return position;
  }

  private setPosition(slot: number, position: number): void {
    this.m.lock();
    this.m.f64[this.m.hf(slot) + HF.POSITION] = position;
    this.m.unlock();
  }

  private cachedSize(file: number): number {
    this.m.lock();
    const size = this.m.f64[this.m.ff(file) + FF.SIZE]!;
    this.m.unlock();
    return size;
  }

  /**
   * Writes back every dirty block of file slot `file` (the caller keeps the slot alive), waiting for its I/O lock.
   * When the only handle that can write them back is being closed by another thread, waits for that close, which
   * writes them back itself: an fsync must not return before the data it covers is in the backend.
   */
  private flush(file: number): void {
    const m = this.m;
    for (;;) {
      if (!writeBackFile(this.cache, file, { all: true }, true).skipped) return;
      m.lock();
      const closing = m.i32[m.f(file) + F.DIRTY]! > 0 && closingWriteBackHandle(m, file);
      m.unlock();
      if (!closing) return;
      Bun.sleepSync(1);
    }
  }

  private syncFile(fd: number, syscall: string): void {
    const file = this.lookup(fd);
    if (file === undefined) return;
    this.flush(file.file);
    const error = takeWriteBackError(this.m, file.file);
    if (error !== 0) throw new FsError(error, syscall);
  }

  /** The truncate of cached file slot `file` through backend handle `fd`, under the file's I/O lock. */
  private truncateFile(file: number, fd: number, length: number, refreshBaseline: boolean): void {
    const m = this.m;
    if (!this.cache.io.acquire(file, true)) throw new FsError(ERRNO.EDEADLK, "truncate");
    try {
      this.inner.ftruncate(fd, length);
      m.lock();
      trimFileBlocks(m, file, length);
      m.f64[m.ff(file) + FF.SIZE] = length;
      m.f64[m.ff(file) + FF.BACKEND_SIZE] = length;
      m.unlock();
      if (refreshBaseline) {
        const st = this.inner.fstat(fd);
        m.lock();
        if (m.i32[m.f(file) + F.WRITERS] === 0 && !hasPendingData(m, file)) setBaseline(m, file, st);
        m.unlock();
      }
    } finally {
      this.cache.io.release(file);
      m.bumpGeneration();
    }
  }

  /**
   * True when the cache holds no file at all, so a removed name has nothing to forget and the identity lookup
   * before unlink/rename (a backend round trip) can be skipped. A file another thread adds meanwhile is handled by
   * close-to-open validation, like any change made behind the cache.
   */
  private holdsNoFiles(): boolean {
    return Atomics.load(this.m.i32, HDR.USED_FILES) === 0;
  }

  /** A file lost a name that was its last: forget its blocks now, or mark it for its last close. */
  private forgetRemoved(st: Stat): void {
    const m = this.m;
    m.lock();
    try {
      const file = findFile(m, this.identity(st));
      if (file === NIL) return;
      if (m.i32[m.f(file) + F.OPENS] === 0) dropFileBlocks(m, file);
      else m.i32[m.f(file) + F.FLAGS] = m.i32[m.f(file) + F.FLAGS]! | FileFlag.UNLINKED;
    } finally {
      m.unlock();
    }
  }

  private dropBlocks(file: number): void {
    this.m.lock();
    dropFileBlocks(this.m, file);
    this.m.unlock();
  }

  /** stat or lstat through the attribute cache, then the overlay of pending data. */
  private attributes(kind: AttrKind, path: string): Stat {
    const m = this.m;
    const cached = this.attrs.get(kind, path);
    if (cached !== undefined) {
      const overlaid = pendingOverlay(m, this.backendId, cached.stat);
      if (overlaid !== undefined) return overlaid;
      // No pending data now: the answer holds only if no write-back (which bumps first) ended since it was checked.
      if (m.generation() === cached.generation) return cached.stat;
    }
    const generation = m.generation();
    let st: Stat;
    try {
      st = kind === "stat" ? this.inner.stat(path) : this.inner.lstat(path);
    } catch (error) {
      if (error instanceof FsError) this.attrs.set(kind, path, generation, error);
      throw error;
    }
    this.attrs.set(kind, path, generation, st);
    return overlayStat(m, this.backendId, st);
  }

  private mutate(call: () => void): void {
    try {
      call();
    } finally {
      this.m.bumpGeneration();
    }
  }

  private quietly<T>(call: () => T): T | undefined {
    try {
      return call();
    } catch (error) {
      if (error instanceof FsError) return undefined;
      throw error;
    }
  }

  private closeQuietly(fd: number): void {
    try {
      this.inner.close(fd);
    } catch (error) {
      if (!(error instanceof FsError)) throw error;
    }
  }
}
