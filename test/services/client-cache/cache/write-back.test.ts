/** @module test/services/client-cache/cache/write-back — when dirty data reaches the backend: ticks, expiry, fsync, close, errors, and "sync" mode. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CachedFileSystem } from "../../../../services/client-cache/cache/index.ts";
import { ERRNO, FsError } from "../../../../kernel/ipc/protocol/index.ts";
import { expectErrno, readAll } from "../../../conformance/harness.ts";
import { CountingFs, FakeClock, newCache, pattern, tempRoot, type TempRoot } from "./helpers.ts";

const KiB = 1024;
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_APPEND = 0o2000;

let temp: TempRoot;
beforeEach(() => {
  temp = tempRoot();
});
afterEach(() => temp.cleanup());

const onDisk = (name: string): Buffer => readFileSync(join(temp.root, name));

describe("periodic write-back", () => {
  test("nothing reaches the backend before it expires; on the tick after expireMs everything older does", () => {
    const clock = new FakeClock();
    const { cache } = newCache({ writebackMs: 100, expireMs: 500, maxDirtyBytes: 256 * KiB }, clock.now);
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
    fs.pwrite(fd, pattern(10 * KiB, 1), 0);
    const t0 = clock.time;
    clock.advance(300);
    fs.pwrite(fd, pattern(10 * KiB, 2), 20 * KiB);
    for (const at of [t0 + 100, t0 + 200, t0 + 499]) {
      expect(cache.writeBackDue(at)).toBe(0);
      expect(counting.counts.pwrites).toBe(0);
    }
    expect(onDisk("f").length).toBe(0);
    expect(fs.fstat(fd).st_size).toBe(30 * KiB);
    // t0 + 500: the first write's blocks are 500 ms old, the second's only 200 ms.
    expect(cache.writeBackDue(t0 + 500)).toBe(3);
    expect(counting.counts.pwrites).toBe(1);
    expect(counting.counts.writes[0]).toEqual({ offset: 0, length: 10 * KiB });
    expect(Buffer.from(onDisk("f")).equals(Buffer.from(pattern(10 * KiB, 1)))).toBe(true);
    expect(cache.writeBackDue(t0 + 799)).toBe(0);
    expect(cache.writeBackDue(t0 + 800)).toBe(3);
    expect(onDisk("f").length).toBe(30 * KiB);
    expect(cache.stats().dirtyBytes).toBe(0);
    expect(cache.stats().writeBacks).toBe(2);
    expect(cache.stats().writeBackBytes).toBe(20 * KiB);
    fs.close(fd);
    expect(counting.counts.pwrites).toBe(2);
  });

  test("above half the dirty limit the tick writes back the oldest blocks down to it, expired or not", () => {
    const clock = new FakeClock();
    const { cache } = newCache({ maxDirtyBytes: 64 * KiB, blockSizeBytes: 4 * KiB, expireMs: 5000 }, clock.now);
    const fs = new CachedFileSystem(temp.backend, cache, 1);
    const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
    for (let block = 0; block < 12; block++) {
      fs.pwrite(fd, pattern(4 * KiB, block), block * 4 * KiB);
      clock.advance(1);
    }
    expect(cache.stats().dirtyBytes).toBe(48 * KiB);
    expect(cache.writeBackDue(clock.time)).toBe(4);
    expect(cache.stats().dirtyBytes).toBe(32 * KiB);
    expect(onDisk("f").length).toBe(16 * KiB);
    fs.close(fd);
  });
});

describe("fsync, close and errors", () => {
  test("fsync writes the file's dirty blocks back, then calls the backend's fsync", () => {
    const { cache } = newCache();
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
    const other = fs.open("g", O_CREAT | O_RDWR, 0o644);
    fs.pwrite(fd, pattern(20 * KiB), 0);
    fs.pwrite(other, pattern(8 * KiB), 0);
    expect(counting.counts.pwrites).toBe(0);
    fs.fsync(fd);
    expect(counting.counts.fsyncs).toBe(1);
    expect(counting.counts.pwrites).toBe(1);
    expect(Buffer.from(onDisk("f")).equals(Buffer.from(pattern(20 * KiB)))).toBe(true);
    expect(onDisk("g").length).toBe(0);
    expect(cache.stats().dirtyBytes).toBe(8 * KiB);
    fs.fdatasync(other);
    expect(onDisk("g").length).toBe(8 * KiB);
    expect(cache.stats().dirtyBytes).toBe(0);
    fs.close(fd);
    fs.close(other);
    expect(counting.counts.pwrites).toBe(2);
  });

  test("closing one of two writable handles keeps the data dirty; closing the last writes it back", () => {
    const { cache } = newCache();
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    const first = fs.open("f", O_CREAT | O_RDWR, 0o644);
    const second = fs.open("f", O_WRONLY, 0);
    const reader = fs.open("f", O_RDONLY, 0);
    fs.pwrite(first, pattern(6 * KiB), 0);
    fs.close(first);
    expect(counting.counts.pwrites).toBe(0);
    expect(cache.stats().dirtyBytes).toBe(8 * KiB);
    fs.close(second);
    expect(counting.counts.pwrites).toBe(1);
    expect(Buffer.from(onDisk("f")).equals(Buffer.from(pattern(6 * KiB)))).toBe(true);
    expect(Buffer.from(readAll(fs, reader, 0)).equals(Buffer.from(pattern(6 * KiB)))).toBe(true);
    fs.close(reader);
  });

  test("a backend write error is reported once, by the next fsync; the cache keeps working", () => {
    const { cache } = newCache();
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
    fs.pwrite(fd, pattern(4 * KiB), 0);
    counting.failWrites = new FsError(ERRNO.ENOSPC, "pwrite");
    expectErrno("ENOSPC", () => fs.fsync(fd));
    expect(cache.stats().writeBackErrors).toBe(1);
    expect(cache.stats().dirtyBytes).toBe(0);
    counting.failWrites = undefined;
    fs.fsync(fd);
    fs.pwrite(fd, pattern(4 * KiB, 9), 0);
    fs.close(fd);
    expect(Buffer.from(onDisk("f")).equals(Buffer.from(pattern(4 * KiB, 9)))).toBe(true);
  });

  test("a write-back error found by a background tick is reported by close", () => {
    const clock = new FakeClock();
    const { cache } = newCache({ expireMs: 10 }, clock.now);
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
    fs.pwrite(fd, pattern(4 * KiB), 0);
    counting.failWrites = new FsError(ERRNO.EIO, "pwrite");
    cache.writeBackDue(clock.time + 10);
    counting.failWrites = undefined;
    expectErrno("EIO", () => fs.close(fd));
    expectErrno("EBADF", () => fs.fstat(fd));
  });
});

describe("O_APPEND and sync mode", () => {
  test("O_APPEND writes go through at the end, after the file's dirty data", () => {
    const { cache } = newCache();
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    const writer = fs.open("f", O_CREAT | O_RDWR, 0o644);
    fs.pwrite(writer, pattern(5000), 0);
    const appender = fs.open("f", O_WRONLY | O_APPEND, 0);
    expect(fs.write(appender, new Uint8Array([1, 2, 3]))).toBe(3);
    expect(fs.pwrite(appender, new Uint8Array([4]), 0)).toBe(1);
    expect(fs.lseek(appender, 0, 1)).toBe(5003);
    expect(onDisk("f").length).toBe(5004);
    expect(fs.fstat(writer).st_size).toBe(5004);
    const expected = new Uint8Array(5004);
    expected.set(pattern(5000));
    expected.set([1, 2, 3, 4], 5000);
    expect(Buffer.from(readAll(fs, writer, 0)).equals(Buffer.from(expected))).toBe(true);
    fs.close(appender);
    fs.close(writer);
    expect(Buffer.from(onDisk("f")).equals(Buffer.from(expected))).toBe(true);
  });

  test("\"sync\": every write is in the backend when it returns, nothing is dirty, and reads hit the cache", () => {
    const { cache } = newCache({ writeback: "sync" });
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
    for (let at = 0; at < 64 * KiB; at += 5000) {
      const chunk = pattern(5000, at).subarray(0, Math.min(5000, 64 * KiB - at));
      fs.pwrite(fd, chunk, at);
      expect(statSync(join(temp.root, "f")).size).toBe(at + chunk.length);
      expect(cache.stats().dirtyBytes).toBe(0);
    }
    counting.reset();
    const data = readAll(fs, fd, 0);
    expect(data.length).toBe(64 * KiB);
    expect(counting.counts.preads).toBe(0);
    expect(Buffer.from(onDisk("f")).equals(Buffer.from(data))).toBe(true);
    fs.close(fd);
  });
});
