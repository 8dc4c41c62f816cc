/**
 * @module test/services/client-cache/cache/cached-file-system — the cache as a FileSystem: truncates with dirty
 * blocks, O_TRUNC, unlink of open files, close-to-open validation, stat overlay, attribute expiry, one copy per file.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalBackend } from "../../../../services/client-cache/backend/index.ts";
import { CachedFileSystem } from "../../../../services/client-cache/cache/index.ts";
import { expectErrno, readAll, readBytes } from "../../../conformance/harness.ts";
import { CountingFs, FakeClock, newCache, pattern, tempRoot, type TempRoot } from "./helpers.ts";

const KiB = 1024;
const O_RDONLY = 0;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;

let temp: TempRoot;
beforeEach(() => {
  temp = tempRoot();
});
afterEach(() => temp.cleanup());

const onDisk = (name: string): Buffer => readFileSync(join(temp.root, name));

describe("truncate with dirty blocks", () => {
  test("ftruncate drops dirty blocks past the end, clips the one holding it, and later grows with zeros", () => {
    const { cache } = newCache();
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
    const data = pattern(12 * KiB);
    fs.pwrite(fd, data, 0);
    expect(cache.stats().dirtyBytes).toBe(12 * KiB);
    fs.ftruncate(fd, 6 * KiB);
    expect(cache.stats().dirtyBytes).toBe(8 * KiB);
    expect(fs.fstat(fd).st_size).toBe(6 * KiB);
    expect(Buffer.from(readAll(fs, fd, 0)).equals(Buffer.from(data.subarray(0, 6 * KiB)))).toBe(true);
    fs.ftruncate(fd, 10 * KiB);
    const grown = readAll(fs, fd, 0);
    expect(grown.length).toBe(10 * KiB);
    expect(Buffer.from(grown.subarray(0, 6 * KiB)).equals(Buffer.from(data.subarray(0, 6 * KiB)))).toBe(true);
    expect(grown.subarray(6 * KiB).every((b) => b === 0)).toBe(true);
    fs.fsync(fd);
    expect(Buffer.from(onDisk("f")).equals(Buffer.from(grown))).toBe(true);
    // Only the 6 KiB that survived were written: nothing past the truncation reached the backend.
    expect(counting.counts.pwriteBytes).toBe(6 * KiB);
    fs.close(fd);
  });

  test("truncate by path of a file with dirty blocks, and O_TRUNC, discard them", () => {
    const { cache } = newCache();
    const fs = new CachedFileSystem(temp.backend, cache, 1);
    const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
    fs.pwrite(fd, pattern(9 * KiB), 0);
    fs.truncate("f", 1000);
    expect(fs.stat("f").st_size).toBe(1000);
    expect(fs.fstat(fd).st_size).toBe(1000);
    expect(cache.stats().dirtyBytes).toBe(4 * KiB);
    expect(Buffer.from(readBytes(fs, "f")).equals(Buffer.from(pattern(9 * KiB).subarray(0, 1000)))).toBe(true);
    fs.pwrite(fd, pattern(3 * KiB, 2), 4 * KiB);
    const again = fs.open("f", O_RDWR | O_TRUNC, 0);
    expect(cache.stats().dirtyBytes).toBe(0);
    expect(fs.fstat(fd).st_size).toBe(0);
    expect(readAll(fs, fd, 0).length).toBe(0);
    fs.close(again);
    fs.close(fd);
    expect(onDisk("f").length).toBe(0);
  });
});

describe("unlink and rename", () => {
  test("an unlinked file stays readable through open handles; its blocks go at the last close", () => {
    const { cache } = newCache();
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
    fs.pwrite(fd, pattern(8 * KiB), 0);
    const reader = fs.open("f", O_RDONLY, 0);
    fs.unlink("f");
    expectErrno("ENOENT", () => fs.stat("f"));
    fs.close(fd);
    expect(Buffer.from(readAll(fs, reader, 0)).equals(Buffer.from(pattern(8 * KiB)))).toBe(true);
    fs.close(reader);
    expect(cache.stats().cachedBytes).toBe(0);
    expect(cache.stats().files).toBe(0);
  });

  test("the dirty data of an unlinked file nobody has open is dropped, not written", () => {
    const { cache } = newCache();
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    const fd = fs.open("tmp", O_CREAT | O_RDWR, 0o644);
    fs.pwrite(fd, pattern(64 * KiB), 0);
    fs.unlink("tmp");
    fs.close(fd);
    expect(counting.counts.pwrites).toBe(0);
    expect(cache.stats().cachedBytes).toBe(0);
    expect(cache.stats().dirtyBytes).toBe(0);
  });

  test("a file replaced by rename loses its blocks; the renamed file keeps its own", () => {
    const { cache } = newCache();
    const fs = new CachedFileSystem(temp.backend, cache, 1);
    writeFileSync(join(temp.root, "a"), pattern(8 * KiB, 1));
    writeFileSync(join(temp.root, "b"), pattern(8 * KiB, 2));
    expect(readBytes(fs, "a").length).toBe(8 * KiB);
    expect(readBytes(fs, "b").length).toBe(8 * KiB);
    expect(cache.stats().cachedBytes).toBe(16 * KiB);
    fs.rename("a", "b", 0);
    expect(cache.stats().cachedBytes).toBe(8 * KiB);
    expect(Buffer.from(readBytes(fs, "b")).equals(Buffer.from(pattern(8 * KiB, 1)))).toBe(true);
  });
});

describe("close-to-open validation", () => {
  test("a change made behind the cache is seen at the next open; an unchanged file keeps its blocks", () => {
    const { cache } = newCache();
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1, { attrTimeoutMs: 0 });
    writeFileSync(join(temp.root, "f"), "version one");
    expect(new TextDecoder().decode(readBytes(fs, "f"))).toBe("version one");
    counting.reset();
    expect(new TextDecoder().decode(readBytes(fs, "f"))).toBe("version one");
    expect(counting.counts.preads).toBe(0);
    appendFileSync(join(temp.root, "f"), " and two");
    expect(new TextDecoder().decode(readBytes(fs, "f"))).toBe("version one and two");
    expect(counting.counts.preads).toBe(1);
  });

  test("an open whose backend fstat is older than another thread's write-back and close still reads the written data", () => {
    // The race the preload tests met: a spawned program wrote a file and exited; the router closed its handle (writing
    // the data back and setting the baseline) between the fstat and the lock of the next reader's open.
    class LateFstat extends CountingFs {
      afterFstat: (() => void) | undefined;
      override fstat(fd: number) {
        const st = super.fstat(fd);
        const after = this.afterFstat;
        this.afterFstat = undefined;
        after?.();
        return st;
      }
    }
    const { cache } = newCache();
    const late = new LateFstat(temp.backend);
    const fs = new CachedFileSystem(late, cache, 1, { attrTimeoutMs: 0 });
    const writer = fs.open("f", O_CREAT | O_RDWR | O_TRUNC, 0o644);
    fs.pwrite(writer, new TextEncoder().encode("written by another process"), 0);
    expect(cache.stats().dirtyBytes).toBeGreaterThan(0);
    late.afterFstat = () => fs.close(writer);
    const reader = fs.open("f", O_RDONLY, 0);
    expect(late.afterFstat).toBeUndefined();
    expect(onDisk("f").toString()).toBe("written by another process");
    expect(fs.fstat(reader).st_size).toBe(26);
    expect(new TextDecoder().decode(readAll(fs, reader, 0))).toBe("written by another process");
    fs.close(reader);
  });

  test("what a process wrote and closed stays cached for its next open (the baseline follows its own writes)", () => {
    const { cache } = newCache();
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1);
    const fd = fs.open("f", O_CREAT | O_RDWR, 0o644);
    fs.pwrite(fd, pattern(16 * KiB), 0);
    fs.close(fd);
    counting.reset();
    expect(Buffer.from(readBytes(fs, "f")).equals(Buffer.from(pattern(16 * KiB)))).toBe(true);
    expect(counting.counts.preads).toBe(0);
  });
});

describe("attributes", () => {
  test("stat shows the cached size and write time before the data is written back", () => {
    const { cache } = newCache();
    const fs = new CachedFileSystem(temp.backend, cache, 1);
    writeFileSync(join(temp.root, "f"), "");
    const before = fs.stat("f");
    const fd = fs.open("f", O_RDWR, 0);
    fs.utimens("f", { sec: 1_000_000_000, nsec: 0 }, { sec: 1_000_000_000, nsec: 0 }, 0);
    fs.pwrite(fd, pattern(10_000), 0);
    expect(onDisk("f").length).toBe(0);
    const st = fs.stat("f");
    expect(st.st_size).toBe(10_000);
    expect(st.st_ino).toBe(before.st_ino);
    expect(st.st_mtime_sec).toBeGreaterThan(1_000_000_000);
    expect(fs.lstat("f").st_size).toBe(10_000);
    // utimens writes back first, so the time it sets is what stays.
    fs.utimens("f", { sec: 1_200_000_000, nsec: 0 }, { sec: 1_200_000_000, nsec: 0 }, 0);
    expect(onDisk("f").length).toBe(10_000);
    expect(fs.stat("f").st_mtime_sec).toBe(1_200_000_000);
    fs.close(fd);
    expect(fs.stat("f").st_mtime_sec).toBe(1_200_000_000);
  });

  test("cached attributes and negative names expire after their lifetime; changes through the cache show at once", () => {
    const clock = new FakeClock();
    const { cache } = newCache();
    const counting = new CountingFs(temp.backend);
    const fs = new CachedFileSystem(counting, cache, 1, { attrTimeoutMs: 1000, now: clock.now });
    const other = new CachedFileSystem(new LocalBackend(temp.root), cache, 1, { attrTimeoutMs: 1000, now: clock.now });
    writeFileSync(join(temp.root, "f"), "12345");
    expect(fs.stat("f").st_size).toBe(5);
    expectErrno("ENOENT", () => fs.stat("g"));
    // Behind the cache's back: not seen while the entries live.
    appendFileSync(join(temp.root, "f"), "678");
    writeFileSync(join(temp.root, "g"), "new");
    clock.advance(999);
    expect(fs.stat("f").st_size).toBe(5);
    expectErrno("ENOENT", () => fs.stat("g"));
    clock.advance(1);
    expect(fs.stat("f").st_size).toBe(8);
    expect(fs.stat("g").st_size).toBe(3);
    // Within the lifetime, answers come from the cache.
    counting.reset();
    fs.stat("f");
    fs.stat("f");
    expect(counting.counts.stats).toBe(0);
    // Changes through another instance of the same cache (any thread): seen at once (the shared generation moved).
    expectErrno("ENOENT", () => fs.stat("h"));
    other.mkdir("h", 0o755);
    expect(fs.stat("h").st_nlink).toBeGreaterThan(0);
    other.chmod("f", 0o600);
    expect(fs.stat("f").st_mode & 0o777).toBe(0o600);
    other.unlink("g");
    expectErrno("ENOENT", () => fs.stat("g"));
  });
});

describe("one cache over many directories", () => {
  test("a file whose cached blocks are dropped at open keeps its slot: writes after a rename-over and inode reuse are not lost", () => {
    // One cache for the whole run, as in a tenant service: the backend reuses the inode numbers of replaced and
    // unlinked files, and an open that drops stale blocks must not free the file slot it is about to use.
    const { cache } = newCache();
    const text = (fs: CachedFileSystem, name: string) => {
      const fd = fs.open(name, O_RDONLY, 0);
      try {
        return Buffer.from(readAll(fs, fd, 0)).toString();
      } finally {
        fs.close(fd);
      }
    };
    for (let round = 0; round < 12; round++) {
      const dir = `d${round}`;
      temp.backend.mkdir(dir, 0o755);
      const fs = new CachedFileSystem(new LocalBackend(join(temp.root, dir)), cache, 1);
      for (const [name, content] of [["a", "new"], ["b", "old"]] as const) {
        const fd = fs.open(name, O_CREAT | O_TRUNC | O_RDWR, 0o644);
        fs.pwrite(fd, new TextEncoder().encode(content), 0);
        fs.close(fd);
        expect(readFileSync(join(temp.root, dir, name), "utf8")).toBe(content);
      }
      expect(text(fs, "b")).toBe("old");
      fs.rename("a", "b", 0);
      expect(text(fs, "b")).toBe("new");
      fs.unlink("b");
      expect(cache.stats().cachedBytes).toBe(0);
      expect(cache.stats().files).toBe(0);
    }
  });
});
