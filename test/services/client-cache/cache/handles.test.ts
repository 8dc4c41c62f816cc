/**
 * @module test/services/client-cache/cache/handles — which closer of a file's handles writes its dirty blocks back:
 * the decision and the hand-over of the write-back handle are one step, so two handles closing at once cannot each
 * leave the dirty blocks to the other; and which closer records the file's baseline: handles being closed are not
 * writers any more, so of two writers closed at once at least one does (the interleavings are played here step by
 * step under the mutex).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { O } from "../../../../kernel/ipc/protocol/index.ts";
import { CachedFileSystem, cacheStats } from "../../../../services/client-cache/cache/index.ts";
import { baselineMatches } from "../../../../services/client-cache/cache/files.ts";
import { findHandle, handOverWriteBack, lastOpenWriter } from "../../../../services/client-cache/cache/handles.ts";
import { F, H, HandleState } from "../../../../services/client-cache/cache/layout.ts";
import type { CacheMemory } from "../../../../services/client-cache/cache/memory.ts";
import { newCache, pattern, tempRoot, type TempRoot } from "./helpers.ts";

const BACKEND = 1;

let temp: TempRoot;
beforeEach(() => {
  temp = tempRoot();
});
afterEach(() => temp.cleanup());

/** `step` under the cache's mutex, as the cache's own steps run. */
function locked<T>(m: CacheMemory, step: () => T): T {
  m.lock();
  try {
    return step();
  } finally {
    m.unlock();
  }
}

/** A file with dirty blocks in the cache and two open handles of it, `first` being its write-back handle. */
function twoHandles(secondFlags: number = O.RDWR) {
  const { data, cache } = newCache({ sizeBytes: 64 * 1024, maxDirtyBytes: 32 * 1024, blockSizeBytes: 4096, writeback: "async" });
  const fs = new CachedFileSystem(temp.backend, cache, BACKEND);
  const first = fs.open("f", O.CREAT | O.RDWR, 0o644);
  const second = fs.open("f", secondFlags, 0);
  expect(fs.pwrite(first, pattern(10_000, 3), 0)).toBe(10_000);
  const m = cache.memory;
  const slotOf = (fd: number) => findHandle(m, BACKEND, fd);
  const file = m.i32[m.h(slotOf(first)) + H.FILE]!;
  expect(m.i32[m.f(file) + F.WB_HANDLE]).toBe(slotOf(first));
  expect(cacheStats(data).dirtyBytes).toBeGreaterThan(0);
  /** What close's first two steps do for `fd`, under the mutex: mark it CLOSING, then decide. */
  const beginClose = (fd: number) => {
    m.i32[m.h(slotOf(fd)) + H.STATE] = HandleState.CLOSING;
  };
  const decide = (fd: number) => locked(m, () => handOverWriteBack(m, file, slotOf(fd)));
  const wbHandle = () => m.i32[m.f(file) + F.WB_HANDLE];
  const reopen = (fd: number) => {
    m.i32[m.h(slotOf(fd)) + H.STATE] = HandleState.OPEN;
  };
  const stateWord = (fd: number) => m.h(slotOf(fd)) + H.STATE;
  return { data, fs, first, second, slotOf, beginClose, decide, wbHandle, reopen, stateWord };
}

describe("closing the handles of a file with dirty blocks", () => {
  test("both marked closing: the write-back handle's closer writes back, the other's does not", () => {
    const t = twoHandles();
    t.beginClose(t.first);
    t.beginClose(t.second);
    // Both are CLOSING: no open handle is left to take over, so the write-back handle's closer writes back.
    expect(t.decide(t.first)).toBe(true);
    expect(t.decide(t.second)).toBe(false);
  });

  test("the write-back handle decides while the other is still open: the write-back moves to it, whose closer then writes back", () => {
    const t = twoHandles();
    t.beginClose(t.first);
    expect(t.decide(t.first)).toBe(false);
    expect(t.wbHandle()).toBe(t.slotOf(t.second));
    // The second closes before the first has left the table: it is now the write-back handle, and the last one.
    t.beginClose(t.second);
    expect(t.decide(t.second)).toBe(true);
  });

  test("the other handle decides first: it is not the write-back handle; the write-back handle's closer then writes back", () => {
    const t = twoHandles();
    t.beginClose(t.first);
    t.beginClose(t.second);
    expect(t.decide(t.second)).toBe(false);
    expect(t.decide(t.first)).toBe(true);
  });

  test("a read-only handle cannot take the write-back over: the write-back handle's closer writes back", () => {
    const t = twoHandles(O.RDONLY);
    t.beginClose(t.first);
    expect(t.decide(t.first)).toBe(true);
    expect(t.wbHandle()).toBe(t.slotOf(t.first));
  });

  test("an fsync while the write-back handle is being closed by another thread writes back through another open handle", () => {
    const t = twoHandles();
    // Another thread has begun closing the write-back handle and not yet decided (it waits for users, say).
    t.beginClose(t.first);
    t.fs.fsync(t.second);
    expect(cacheStats(t.data).dirtyBytes).toBe(0);
    expect(Buffer.from(readFileSync(join(temp.root, "f"))).equals(Buffer.from(pattern(10_000, 3)))).toBe(true);
    t.reopen(t.first);
    t.fs.close(t.first);
    t.fs.close(t.second);
  });

  test("an fsync through a read-only handle waits while the file's only writable handle is being closed, until that close is through", async () => {
    const t = twoHandles(O.RDONLY);
    t.beginClose(t.first);
    // Stands in for the closing thread: 50 ms later its handle is usable again (a real closer would write back itself).
    const stateWord = t.stateWord(t.first);
    const code = `self.onmessage = (e) => { const w = new Int32Array(e.data.meta); setTimeout(() => { Atomics.store(w, e.data.word, ${HandleState.OPEN}); self.postMessage("done"); }, 50); };`;
    const worker = new Worker(URL.createObjectURL(new Blob([code], { type: "application/javascript" })));
    const done = new Promise((resolve) => (worker.onmessage = resolve));
    worker.postMessage({ meta: t.data.meta, word: stateWord });
    t.fs.fsync(t.second);
    expect(Buffer.from(readFileSync(join(temp.root, "f"))).equals(Buffer.from(pattern(10_000, 3)))).toBe(true);
    await done;
    worker.terminate();
    t.fs.close(t.second);
    t.fs.close(t.first);
  });

  test("after the hand-over, closing both for real leaves nothing dirty and the whole file in the backend", () => {
    const t = twoHandles();
    t.beginClose(t.first);
    expect(t.decide(t.first)).toBe(false);
    t.reopen(t.first);
    t.fs.close(t.first);
    t.fs.close(t.second);
    expect(cacheStats(t.data).dirtyBytes).toBe(0);
    expect(Buffer.from(readFileSync(join(temp.root, "f"))).equals(Buffer.from(pattern(10_000, 3)))).toBe(true);
  });
});

describe("the last writer's baseline", () => {
  /** Two writable handles of a backend file last changed in 2000 (so any write-back changes its mtime). */
  function twoWriters() {
    writeFileSync(join(temp.root, "f"), "");
    utimesSync(join(temp.root, "f"), 946_684_800, 946_684_800);
    const { cache } = newCache({ sizeBytes: 64 * 1024, maxDirtyBytes: 32 * 1024, blockSizeBytes: 4096, writeback: "async" });
    const fs = new CachedFileSystem(temp.backend, cache, BACKEND);
    const first = fs.open("f", O.RDWR, 0);
    const second = fs.open("f", O.RDWR, 0);
    const m = cache.memory;
    const slotOf = (fd: number) => findHandle(m, BACKEND, fd);
    const file = m.i32[m.h(slotOf(first)) + H.FILE]!;
    const setState = (fd: number, state: number) => (m.i32[m.h(slotOf(fd)) + H.STATE] = state);
    const isLast = (fd: number) => locked(m, () => lastOpenWriter(m, file, slotOf(fd)));
    return { fs, m, file, first, second, setState, isLast };
  }

  test("two writers being closed at once are each the last open writer; one still open is not", () => {
    const t = twoWriters();
    t.setState(t.first, HandleState.CLOSING);
    expect(t.isLast(t.first)).toBe(false);
    t.setState(t.second, HandleState.CLOSING);
    expect(t.isLast(t.first)).toBe(true);
    expect(t.isLast(t.second)).toBe(true);
    t.setState(t.first, HandleState.OPEN);
    t.setState(t.second, HandleState.OPEN);
    t.fs.close(t.first);
    t.fs.close(t.second);
  });

  test("a writer closed while the other is being closed records the backend's attributes after its write-back", () => {
    const t = twoWriters();
    expect(t.fs.pwrite(t.first, pattern(10_000, 5), 0)).toBe(10_000);
    // The second writer's closer has begun (it waits for users, say); the first is closed for real meanwhile.
    t.setState(t.second, HandleState.CLOSING);
    t.fs.close(t.first);
    expect(Buffer.from(readFileSync(join(temp.root, "f"))).equals(Buffer.from(pattern(10_000, 5)))).toBe(true);
    // The write-back changed the backend's mtime; the baseline follows it, so the next open keeps the cached blocks.
    expect(locked(t.m, () => baselineMatches(t.m, t.file, temp.backend.stat("f")))).toBe(true);
    t.setState(t.second, HandleState.OPEN);
    t.fs.close(t.second);
  });
});
