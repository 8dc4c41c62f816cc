/** @module test/services/client-cache/cache/attr-cache — the per-thread attribute cache keeps answers for paths shorter than PATH_MAX only. */
import { expect, test } from "bun:test";
import { AttributeCache } from "../../../../services/client-cache/cache/attr-cache.ts";
import { ERRNO, FsError, PATH_MAX, type Stat } from "../../../../kernel/ipc/protocol/index.ts";

const stat = { st_ino: 7, st_size: 3 } as unknown as Stat;

test("answers for a path of PATH_MAX bytes or more are not kept, so entries stay within maxEntries × PATH_MAX of keys", () => {
  const cache = new AttributeCache(() => 1, () => 0, 1000, 4);
  const short = `a/${"d".repeat(PATH_MAX - 3)}`;
  const deep = `${short}/e`;
  expect(short.length).toBe(PATH_MAX - 1);
  cache.set("lstat", short, 1, stat);
  cache.set("lstat", deep, 1, stat);
  cache.set("stat", deep, 1, new FsError(ERRNO.ENOENT, "stat", deep));
  expect(cache.get("lstat", short)?.stat.st_ino).toBe(7);
  expect(cache.get("lstat", deep)).toBeUndefined();
  expect(cache.get("stat", deep)).toBeUndefined();
});
