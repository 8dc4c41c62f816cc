/** @module test/services/client-cache/cache/helpers — temp roots, small caches and a counting FileSystem wrapper for the cache tests. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CacheConfig } from "../../../../kernel/config/index.ts";
import { LocalBackend } from "../../../../services/client-cache/backend/index.ts";
import { SharedCache, type SharedCacheData } from "../../../../services/client-cache/cache/index.ts";
import type { Dirent, FileSystem, Stat, Statfs, Timespec } from "../../../../kernel/ipc/protocol/index.ts";

/** A temp directory with a LocalBackend root in it. */
export interface TempRoot {
  readonly base: string;
  readonly root: string;
  readonly backend: LocalBackend;
  cleanup(): void;
}

/** A new temp root served by a LocalBackend. */
export function tempRoot(): TempRoot {
  const base = mkdtempSync(join(tmpdir(), "danaus-cache-unit-"));
  const root = join(base, "root");
  const backend = new LocalBackend(root);
  return {
    base,
    root,
    backend,
    cleanup() {
      backend.dispose();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** A cache config: 1 MiB of 4 KiB blocks, 256 KiB dirty, async, 1 s / 5 s, with `overrides`. */
export function cacheConfig(overrides: Partial<CacheConfig> = {}): CacheConfig {
  return {
    sizeBytes: 1024 * 1024,
    maxDirtyBytes: 256 * 1024,
    blockSizeBytes: 4096,
    writebackMs: 1000,
    expireMs: 5000,
    writeback: "async",
    ...overrides,
  };
}

/** A fresh shared cache and its attachment in this thread (with a clock when given). */
export function newCache(overrides: Partial<CacheConfig> = {}, now?: () => number): { data: SharedCacheData; cache: SharedCache } {
  const data = SharedCache.create(cacheConfig(overrides));
  return { data, cache: now === undefined ? SharedCache.attach(data) : SharedCache.attach(data, { now }) };
}

/** A settable clock. */
export class FakeClock {
  constructor(public time = 1_000_000) {}
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

/** Deterministic bytes: `length` of them, varying with `seed`. */
export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (Math.imul(i + seed * 7919, 2654435761) >>> 24) & 0xff;
  return out;
}

/** What reached the wrapped FileSystem. */
export interface Counts {
  preads: number;
  preadBytes: number;
  pwrites: number;
  pwriteBytes: number;
  fsyncs: number;
  /** stat and lstat calls. */
  stats: number;
  writes: { offset: number; length: number }[];
}

/**
 * A FileSystem passing every call to `inner` and counting the data calls; `failWrites` makes pwrite throw it.
 */
export class CountingFs implements FileSystem {
  readonly counts: Counts = { preads: 0, preadBytes: 0, pwrites: 0, pwriteBytes: 0, fsyncs: 0, stats: 0, writes: [] };
  failWrites: Error | undefined;

  constructor(readonly inner: FileSystem) {}

  reset(): void {
    Object.assign(this.counts, { preads: 0, preadBytes: 0, pwrites: 0, pwriteBytes: 0, fsyncs: 0, stats: 0, writes: [] });
  }

  open(path: string, flags: number, mode: number): number {
    return this.inner.open(path, flags, mode);
  }
  fifoNode(fd: number): number {
    return this.inner.fifoNode(fd);
  }
  close(fd: number): void {
    this.inner.close(fd);
  }
  pread(fd: number, into: Uint8Array, offset: number): number {
    const count = this.inner.pread(fd, into, offset);
    this.counts.preads++;
    this.counts.preadBytes += count;
    return count;
  }
  pwrite(fd: number, data: Uint8Array, offset: number): number {
    if (this.failWrites !== undefined) throw this.failWrites;
    const count = this.inner.pwrite(fd, data, offset);
    this.counts.pwrites++;
    this.counts.pwriteBytes += count;
    this.counts.writes.push({ offset, length: count });
    return count;
  }
  read(fd: number, into: Uint8Array): number {
    return this.inner.read(fd, into);
  }
  write(fd: number, data: Uint8Array): number {
    return this.inner.write(fd, data);
  }
  lseek(fd: number, offset: number, whence: number): number {
    return this.inner.lseek(fd, offset, whence);
  }
  fstat(fd: number): Stat {
    return this.inner.fstat(fd);
  }
  stat(path: string): Stat {
    this.counts.stats++;
    return this.inner.stat(path);
  }
  lstat(path: string): Stat {
    this.counts.stats++;
    return this.inner.lstat(path);
  }
  ftruncate(fd: number, length: number): void {
    this.inner.ftruncate(fd, length);
  }
  truncate(path: string, length: number): void {
    this.inner.truncate(path, length);
  }
  fsync(fd: number): void {
    this.counts.fsyncs++;
    this.inner.fsync(fd);
  }
  fdatasync(fd: number): void {
    this.counts.fsyncs++;
    this.inner.fdatasync(fd);
  }
  mkdir(path: string, mode: number): void {
    this.inner.mkdir(path, mode);
  }
  mknod(path: string, mode: number, rdev: number): void {
    this.inner.mknod(path, mode, rdev);
  }
  rmdir(path: string): void {
    this.inner.rmdir(path);
  }
  unlink(path: string): void {
    this.inner.unlink(path);
  }
  rename(from: string, to: string, flags: number): void {
    this.inner.rename(from, to, flags);
  }
  readdir(fd: number, cookie: number): Dirent[] {
    return this.inner.readdir(fd, cookie);
  }
  symlink(target: string, path: string): void {
    this.inner.symlink(target, path);
  }
  readlink(path: string): string {
    return this.inner.readlink(path);
  }
  link(existing: string, path: string): void {
    this.inner.link(existing, path);
  }
  chmod(path: string, mode: number): void {
    this.inner.chmod(path, mode);
  }
  chown(path: string, uid: number, gid: number, flags: number): void {
    this.inner.chown(path, uid, gid, flags);
  }
  utimens(path: string, atime: Timespec, mtime: Timespec, flags: number): void {
    this.inner.utimens(path, atime, mtime, flags);
  }
  access(path: string, mode: number): void {
    this.inner.access(path, mode);
  }
  statfs(path: string): Statfs {
    return this.inner.statfs(path);
  }
}
