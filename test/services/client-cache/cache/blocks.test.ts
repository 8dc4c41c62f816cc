/** @module test/services/client-cache/cache/blocks — eviction by CLOCK: which block goes, second chances, pinned and dirty blocks stay. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CachedFileSystem } from "../../../../services/client-cache/cache/index.ts";
import { CountingFs, newCache, pattern, tempRoot, type TempRoot } from "./helpers.ts";

const BLOCK = 4096;
const O_RDONLY = 0;
const O_RDWR = 2;

let temp: TempRoot;
beforeEach(() => {
  temp = tempRoot();
});
afterEach(() => temp.cleanup());

/** A cache of exactly four 4 KiB blocks over a counting backend, and a file of eight blocks on disk. */
function setup() {
  const { cache } = newCache({ sizeBytes: 4 * BLOCK, maxDirtyBytes: 2 * BLOCK, blockSizeBytes: BLOCK });
  const counting = new CountingFs(temp.backend);
  const fs = new CachedFileSystem(counting, cache, 1);
  writeFileSync(join(temp.root, "f"), pattern(8 * BLOCK));
  const fd = fs.open("f", O_RDONLY, 0);
  const readBlock = (index: number): number => {
    const before = counting.counts.preads;
    const into = new Uint8Array(BLOCK);
    expect(fs.pread(fd, into, index * BLOCK)).toBe(BLOCK);
    expect(Buffer.from(into).equals(Buffer.from(pattern(8 * BLOCK).subarray(index * BLOCK, (index + 1) * BLOCK)))).toBe(true);
    return counting.counts.preads - before;
  };
  return { cache, fs, fd, counting, readBlock };
}

describe("CLOCK eviction", () => {
  test("a block read once goes before a block read twice (second chance), in hand order", () => {
    const { cache, readBlock } = setup();
    for (const index of [0, 1, 2, 3]) expect(readBlock(index)).toBe(1);
    expect(readBlock(0)).toBe(0); // a hit: block 0 gets its reference bit
    expect(cache.stats().cachedBytes).toBe(4 * BLOCK);
    // The hand starts at slot 0: block 0 has its bit (cleared, kept), block 1 has none and goes.
    expect(readBlock(4)).toBe(1);
    expect(cache.stats().evictions).toBe(1);
    expect(readBlock(0)).toBe(0);
    expect(readBlock(2)).toBe(0); // still cached; now referenced
    expect(readBlock(3)).toBe(0);
    // Hand at slot 2 (block 2, referenced: cleared), slot 3 (block 3, referenced: cleared), slot 0 (block 0: its
    // bit was set again by the hit above: cleared), slot 1 (block 4, never hit): evicted.
    expect(readBlock(1)).toBe(1);
    expect(readBlock(4)).toBe(1);
    expect(cache.stats().cachedBytes).toBe(4 * BLOCK);
    expect(cache.stats().evictions).toBe(3);
  });

  test("dirty blocks are never evicted: clean ones go, and reads past a full dirty share still work", () => {
    const { cache } = newCache({ sizeBytes: 4 * BLOCK, maxDirtyBytes: 2 * BLOCK, blockSizeBytes: BLOCK });
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    writeFileSync(join(temp.root, "f"), pattern(8 * BLOCK));
    const fd = fs.open("f", O_RDWR, 0);
    fs.pwrite(fd, new Uint8Array(BLOCK).fill(7), 0);
    fs.pwrite(fd, new Uint8Array(BLOCK).fill(8), BLOCK);
    expect(cache.stats().dirtyBytes).toBe(2 * BLOCK);
    const into = new Uint8Array(BLOCK);
    for (let round = 0; round < 3; round++) {
      for (let index = 2; index < 8; index++) fs.pread(fd, into, index * BLOCK);
    }
    expect(counting.counts.pwrites).toBe(0);
    fs.pread(fd, into, 0);
    expect(into.every((b) => b === 7)).toBe(true);
    fs.pread(fd, into, BLOCK);
    expect(into.every((b) => b === 8)).toBe(true);
    expect(cache.stats().cachedBytes).toBeLessThanOrEqual(4 * BLOCK);
    fs.close(fd);
  });

  test("a miss of several consecutive blocks is one backend read", () => {
    const { cache } = newCache({ sizeBytes: 64 * BLOCK, blockSizeBytes: BLOCK });
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    writeFileSync(join(temp.root, "f"), pattern(8 * BLOCK));
    const fd = fs.open("f", O_RDONLY, 0);
    const into = new Uint8Array(8 * BLOCK);
    expect(fs.pread(fd, into, 0)).toBe(8 * BLOCK);
    expect(counting.counts.preads).toBe(1);
    expect(cache.stats().misses).toBe(8);
    // Two cached blocks in the middle split the next miss into two runs.
    fs.close(fd);
    const { cache: second } = newCache({ sizeBytes: 64 * BLOCK, blockSizeBytes: BLOCK });
    const counting2 = new CountingFs(temp.backend);
    const fs2 = new CachedFileSystem(counting2, second, 1);
    const fd2 = fs2.open("f", O_RDONLY, 0);
    fs2.pread(fd2, new Uint8Array(2 * BLOCK), 3 * BLOCK);
    counting2.reset();
    expect(fs2.pread(fd2, into, 0)).toBe(8 * BLOCK);
    expect(counting2.counts.preads).toBe(2);
    expect(Buffer.from(into).equals(Buffer.from(pattern(8 * BLOCK)))).toBe(true);
    fs2.close(fd2);
  });
});

describe("read-ahead", () => {
  test("a sequential stream fills ahead in growing backend reads; a random reader does not", () => {
    const temp = tempRoot();
    try {
      const { cache } = newCache({ blockSizeBytes: 4096, sizeBytes: 4 * 1024 * 1024 });
      writeFileSync(join(temp.root, "seq"), pattern(1024 * 1024, 2));
      writeFileSync(join(temp.root, "rnd"), pattern(1024 * 1024, 3));
      const counting = new CountingFs(temp.backend);
      const fs = new CachedFileSystem(counting, cache, 1);
      const block = new Uint8Array(4096);
      const seq = fs.open("seq", 0, 0);
      for (let at = 0; at < 1024 * 1024; at += 4096) fs.pread(seq, block, at);
      fs.close(seq);
      const sequentialReads = counting.counts.preads;
      // 256 blocks read one by one: without read-ahead that is 256 backend reads.
      expect(sequentialReads).toBeLessThan(32);
      expect(cache.stats().misses).toBe(sequentialReads);
      const rnd = fs.open("rnd", 0, 0);
      for (let i = 0; i < 64; i++) fs.pread(rnd, block, ((i * 97) % 256) * 4096);
      fs.close(rnd);
      // Scattered reads fill exactly the blocks asked for (the first read, at offset 0, may start a window).
      expect(counting.counts.preadBytes - 1024 * 1024).toBeLessThanOrEqual(64 * 4096 + 1024 * 1024 / 8);
    } finally {
      temp.cleanup();
    }
  });
});
