/**
 * @module test/services/client-cache/cache/shared-cache — one cache for the whole process: a file held once whatever
 * the path, mount or thread; writes and stats seen from other Workers; concurrent writers; the write-back thread.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalBackend } from "../../../../services/client-cache/backend/index.ts";
import { CachedFileSystem, SharedCache, cacheStats, startWriteBackThread } from "../../../../services/client-cache/cache/index.ts";
import { readAll, readBytes } from "../../../conformance/harness.ts";
import type { CacheWorkerReply, CacheWorkerRequest } from "./cache-worker.ts";
import { CountingFs, cacheConfig, newCache, pattern, tempRoot, type TempRoot } from "./helpers.ts";

const KiB = 1024;
const O_CREAT = 0o100;
const O_RDWR = 2;

let temp: TempRoot;
beforeEach(() => {
  temp = tempRoot();
});
afterEach(() => temp.cleanup());

function inWorker(request: CacheWorkerRequest): Promise<CacheWorkerReply> {
  const worker = new Worker(new URL("./cache-worker.ts", import.meta.url).href);
  return new Promise<CacheWorkerReply>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<CacheWorkerReply>) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(event.message));
    worker.postMessage(request);
  }).finally(() => worker.terminate());
}

describe("one copy per file", () => {
  test("two names of one file (a hard link) and two mounts of one backend share its blocks", () => {
    const { cache } = newCache();
    mkdirSync(join(temp.root, "sub"));
    writeFileSync(join(temp.root, "sub", "f"), pattern(64 * KiB));
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    fs.link("sub/f", "g");
    const subMount = new LocalBackend(join(temp.root, "sub"));
    const subCounting = new CountingFs(subMount);
    const mounted = new CachedFileSystem(subCounting, cache, 1);
    expect(Buffer.from(readBytes(fs, "sub/f")).equals(Buffer.from(pattern(64 * KiB)))).toBe(true);
    expect(Buffer.from(readBytes(fs, "g")).equals(Buffer.from(pattern(64 * KiB)))).toBe(true);
    expect(Buffer.from(readBytes(mounted, "f")).equals(Buffer.from(pattern(64 * KiB)))).toBe(true);
    expect(cache.stats().cachedBytes).toBe(64 * KiB);
    expect(cache.stats().files).toBe(1);
    expect(counting.counts.preadBytes).toBe(64 * KiB);
    expect(subCounting.counts.preads).toBe(0);
    subMount.dispose();
  });

  test("two Workers, each with its own CachedFileSystem, read one file: one copy, read from the backend once", async () => {
    const data = SharedCache.create(cacheConfig());
    writeFileSync(join(temp.root, "f"), pattern(200 * KiB, 4));
    const first = await inWorker({ kind: "read", root: temp.root, cache: data, path: "f", seed: 4 });
    const second = await inWorker({ kind: "read", root: temp.root, cache: data, path: "f", seed: 4 });
    expect(first).toMatchObject({ ok: true, length: 200 * KiB, equal: true });
    expect(second).toMatchObject({ ok: true, length: 200 * KiB, equal: true, preads: 0 });
    expect((first as { preads: number }).preads).toBeGreaterThan(0);
    const stats = cacheStats(data);
    expect(stats.cachedBytes).toBe(200 * KiB);
    // 50 blocks asked for twice: the second Worker hits all 50; the first misses some and read-ahead turns the rest into hits.
    expect(stats.misses + stats.hits).toBe(100);
    expect(stats.misses).toBeGreaterThan(0);
    expect(stats.misses).toBeLessThanOrEqual(50);
    expect(stats.fillBytes).toBe(200 * KiB);
  });
});

describe("across threads", () => {
  test("a write not yet written back is seen by another Worker's read and stat", async () => {
    const data = SharedCache.create(cacheConfig());
    const fs = new CachedFileSystem(temp.backend, SharedCache.attach(data), 1);
    const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
    fs.pwrite(fd, pattern(10_000, 6), 0);
    expect(readFileSync(join(temp.root, "f")).length).toBe(0);
    const stat = await inWorker({ kind: "stat", root: temp.root, cache: data, path: "f" });
    expect(stat).toEqual({ ok: true, size: 10_000 });
    const read = await inWorker({ kind: "read", root: temp.root, cache: data, path: "f", seed: 6 });
    expect(read).toMatchObject({ ok: true, length: 10_000, equal: true, preads: 0 });
    fs.close(fd);
    expect(Buffer.from(readFileSync(join(temp.root, "f"))).equals(Buffer.from(pattern(10_000, 6)))).toBe(true);
  });

  test("two Workers writing interleaved ranges of one file (sharing blocks) each read back their own; the file is whole", async () => {
    const data = SharedCache.create(cacheConfig({ sizeBytes: 256 * KiB, maxDirtyBytes: 64 * KiB, blockSizeBytes: 4 * KiB }));
    const size = 600 * KiB + 123;
    const start = new SharedArrayBuffer(4);
    const common = { kind: "write-part", root: temp.root, cache: data, path: "f", size, seed: 8, piece: 3001, stride: 2, rounds: 3, start } as const;
    const replies = Promise.all([inWorker({ ...common, part: 0 }), inWorker({ ...common, part: 1 })]);
    await Bun.sleep(50);
    Atomics.store(new Int32Array(start), 0, 1);
    Atomics.notify(new Int32Array(start), 0);
    for (const reply of await replies) expect(reply).toEqual({ ok: true, mismatches: 0 });
    const stats = cacheStats(data);
    expect(stats.dirtyBytes).toBe(0);
    expect(stats.cachedBytes).toBeLessThanOrEqual(256 * KiB);
    expect(Buffer.from(readFileSync(join(temp.root, "f"))).equals(Buffer.from(pattern(size, 8)))).toBe(true);
    const fs = new CachedFileSystem(temp.backend, SharedCache.attach(data), 1);
    const fd = fs.open("f", 0, 0);
    expect(Buffer.from(readAll(fs, fd, 0)).equals(Buffer.from(pattern(size, 8)))).toBe(true);
    fs.close(fd);
  });
});

describe("stress", () => {
  for (const writeback of ["async", "sync"] as const) {
    test(`four Workers writing unaligned interleaved pieces on a 16-block cache, with a write-back thread ticking every 3 ms (${writeback})`, async () => {
      const data = SharedCache.create(
        cacheConfig({ sizeBytes: 64 * KiB, maxDirtyBytes: 16 * KiB, blockSizeBytes: 4 * KiB, writebackMs: 3, expireMs: 2, writeback }),
      );
      const thread = startWriteBackThread(data, { module: new URL("./local-opener.ts", import.meta.url).href, specs: { 1: { root: temp.root } } });
      await thread.ready;
      const size = 300 * KiB + 77;
      const start = new SharedArrayBuffer(4);
      const common = { kind: "write-part", root: temp.root, cache: data, path: "f", size, seed: 11, piece: 3001, stride: 4, rounds: 4, start } as const;
      const replies = Promise.all([0, 1, 2, 3].map((part) => inWorker({ ...common, part })));
      await Bun.sleep(80);
      Atomics.store(new Int32Array(start), 0, 1);
      Atomics.notify(new Int32Array(start), 0);
      const got = await replies;
      await thread.stop();
      for (const reply of got) expect(reply).toEqual({ ok: true, mismatches: 0 });
      expect(cacheStats(data).dirtyBytes).toBe(0);
      expect(cacheStats(data).cachedBytes).toBeLessThanOrEqual(64 * KiB);
      expect(Buffer.from(readFileSync(join(temp.root, "f"))).equals(Buffer.from(pattern(size, 11)))).toBe(true);
    }, 30_000);
  }
});

describe("the write-back thread", () => {
  test("writes back what expired on its ticks, through handles the main thread opened; stop flushes the rest", async () => {
    const data = SharedCache.create(cacheConfig({ writebackMs: 50, expireMs: 200 }));
    const fs = new CachedFileSystem(temp.backend, SharedCache.attach(data), 1);
    const thread = startWriteBackThread(data, { module: new URL("./local-opener.ts", import.meta.url).href, specs: { 1: { root: temp.root } } });
    await thread.ready;
    const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
    const written = Date.now();
    fs.pwrite(fd, pattern(20 * KiB, 2), 0);
    await Bun.sleep(100);
    if (Date.now() - written < 190) expect(readFileSync(join(temp.root, "f")).length).toBe(0);
    for (let waited = 0; waited < 3000 && readFileSync(join(temp.root, "f")).length === 0; waited += 20) await Bun.sleep(20);
    expect(Date.now() - written).toBeGreaterThanOrEqual(200);
    expect(Buffer.from(readFileSync(join(temp.root, "f"))).equals(Buffer.from(pattern(20 * KiB, 2)))).toBe(true);
    expect(cacheStats(data).dirtyBytes).toBe(0);
    fs.pwrite(fd, pattern(4 * KiB, 3), 0);
    await thread.stop();
    expect(Buffer.from(readFileSync(join(temp.root, "f")).subarray(0, 4 * KiB)).equals(Buffer.from(pattern(4 * KiB, 3)))).toBe(true);
    fs.close(fd);
  });
});
