/** @module test/services/client-cache/cache/write-path — async writes: back-pressure under the dirty limit, read-fill of partial blocks, files larger than the cache. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CachedFileSystem } from "../../../../services/client-cache/cache/index.ts";
import { readAll } from "../../../conformance/harness.ts";
import { CountingFs, newCache, pattern, tempRoot, type TempRoot } from "./helpers.ts";

const KiB = 1024;
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;

let temp: TempRoot;
beforeEach(() => {
  temp = tempRoot();
});
afterEach(() => temp.cleanup());

describe("dirty limit", () => {
  test("dirty bytes never pass maxDirtyBytes; every write succeeds; the oldest blocks reach the backend first", () => {
    const { cache } = newCache({ sizeBytes: 1024 * KiB, maxDirtyBytes: 64 * KiB, blockSizeBytes: 4 * KiB });
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    const data = pattern(1024 * KiB);
    const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
    let maxDirty = 0;
    for (let at = 0; at < data.length; at += 3000) {
      const chunk = data.subarray(at, Math.min(at + 3000, data.length));
      expect(fs.pwrite(fd, chunk, at)).toBe(chunk.length);
      maxDirty = Math.max(maxDirty, cache.stats().dirtyBytes);
    }
    expect(maxDirty).toBeLessThanOrEqual(64 * KiB);
    expect(maxDirty).toBeGreaterThan(32 * KiB);
    expect(counting.counts.pwrites).toBeGreaterThan(0);
    // Back-pressure wrote the beginning of the file: oldest first, in order.
    expect(counting.counts.writes[0]!.offset).toBe(0);
    const offsets = counting.counts.writes.map((write) => write.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    // Coalesced: far fewer backend writes than blocks written back.
    expect(counting.counts.pwrites).toBeLessThan(counting.counts.pwriteBytes / (4 * KiB) / 2);
    expect(Buffer.from(readAll(fs, fd, 0)).equals(Buffer.from(data))).toBe(true);
    fs.close(fd);
    expect(cache.stats().dirtyBytes).toBe(0);
    expect(Buffer.from(readFileSync(join(temp.root, "f"))).equals(Buffer.from(data))).toBe(true);
  });

  test("a dirty limit below one block makes every write go through", () => {
    const { cache } = newCache({ maxDirtyBytes: 1000, blockSizeBytes: 4 * KiB });
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
    expect(fs.pwrite(fd, pattern(10 * KiB), 0)).toBe(10 * KiB);
    expect(counting.counts.pwriteBytes).toBe(10 * KiB);
    expect(cache.stats().dirtyBytes).toBe(0);
    fs.close(fd);
  });
});

describe("partial blocks", () => {
  test("a partial write into an uncached block that the backend holds reads the block first; past the end it does not", () => {
    writeFileSync(join(temp.root, "f"), pattern(10 * KiB));
    const { cache } = newCache({ blockSizeBytes: 4 * KiB });
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    const fd = fs.open("f", O_RDWR, 0);
    fs.pwrite(fd, new Uint8Array([1, 2, 3]), 5000);
    expect(counting.counts.preads).toBe(1);
    // Block 3 starts at 12 KiB, past the backend's 10 KiB: nothing to read.
    fs.pwrite(fd, new Uint8Array([9]), 13 * KiB);
    expect(counting.counts.preads).toBe(1);
    // A whole block: nothing to read either.
    fs.pwrite(fd, new Uint8Array(4 * KiB).fill(4), 0);
    expect(counting.counts.preads).toBe(1);
    const expected = new Uint8Array(13 * KiB + 1);
    expected.set(pattern(10 * KiB));
    expected.set([1, 2, 3], 5000);
    expected.fill(4, 0, 4 * KiB);
    expected[13 * KiB] = 9;
    expect(Buffer.from(readAll(fs, fd, 0)).equals(Buffer.from(expected))).toBe(true);
    expect(fs.fstat(fd).st_size).toBe(13 * KiB + 1);
    fs.close(fd);
    expect(Buffer.from(readFileSync(join(temp.root, "f"))).equals(Buffer.from(expected))).toBe(true);
  });

  test("through a write-only handle a partial block that would need a read is written through instead", () => {
    writeFileSync(join(temp.root, "f"), pattern(10 * KiB));
    const { cache } = newCache({ blockSizeBytes: 4 * KiB });
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    const fd = fs.open("f", O_WRONLY, 0);
    expect(fs.pwrite(fd, new Uint8Array([1, 2, 3]), 5000)).toBe(3);
    expect(counting.counts.preads).toBe(0);
    expect(counting.counts.pwriteBytes).toBe(3);
    expect(cache.stats().dirtyBytes).toBe(0);
    fs.close(fd);
    const expected = pattern(10 * KiB);
    expected.set([1, 2, 3], 5000);
    expect(Buffer.from(readFileSync(join(temp.root, "f"))).equals(Buffer.from(expected))).toBe(true);
  });
});

describe("a file larger than the cache", () => {
  test("streamed through in both directions: cached bytes stay within the capacity, content intact", () => {
    const { cache } = newCache({ sizeBytes: 256 * KiB, maxDirtyBytes: 128 * KiB, blockSizeBytes: 16 * KiB });
    const fs = new CachedFileSystem(temp.backend, cache, 1);
    const data = pattern(4096 * KiB, 5);
    const fd = fs.open("big", O_CREAT | O_RDWR, 0o644);
    for (let at = 0; at < data.length; at += 100 * KiB) {
      fs.pwrite(fd, data.subarray(at, Math.min(at + 100 * KiB, data.length)), at);
      expect(cache.stats().cachedBytes).toBeLessThanOrEqual(256 * KiB);
      expect(cache.stats().dirtyBytes).toBeLessThanOrEqual(128 * KiB);
    }
    fs.close(fd);
    const reader = fs.open("big", O_RDONLY, 0);
    const into = new Uint8Array(64 * KiB);
    for (let at = 0; at < data.length; at += into.length) {
      expect(fs.pread(reader, into, at)).toBe(into.length);
      expect(Buffer.from(into).equals(Buffer.from(data.subarray(at, at + into.length)))).toBe(true);
      expect(cache.stats().cachedBytes).toBeLessThanOrEqual(256 * KiB);
    }
    expect(cache.stats().evictions).toBeGreaterThan(0);
    fs.close(reader);
    expect(Buffer.from(readFileSync(join(temp.root, "big"))).equals(Buffer.from(data))).toBe(true);
  });

  test("one read larger than the whole cache", () => {
    writeFileSync(join(temp.root, "big"), pattern(1024 * KiB, 3));
    const { cache } = newCache({ sizeBytes: 64 * KiB, maxDirtyBytes: 32 * KiB, blockSizeBytes: 4 * KiB });
    const fs = new CachedFileSystem(temp.backend, cache, 1);
    const fd = fs.open("big", O_RDONLY, 0);
    const into = new Uint8Array(1024 * KiB + 5);
    expect(fs.pread(fd, into, 0)).toBe(1024 * KiB);
    expect(Buffer.from(into.subarray(0, 1024 * KiB)).equals(Buffer.from(pattern(1024 * KiB, 3)))).toBe(true);
    expect(cache.stats().cachedBytes).toBeLessThanOrEqual(64 * KiB);
    fs.close(fd);
  });
});
