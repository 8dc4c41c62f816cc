/** @module test/services/union/shared — the shared directory-handle table: paths up to PATH_MAX in the slot, deeper ones in the long-path pool. */
import { describe, expect, test } from "bun:test";
import { createUnionShared, DirTable, LONG_PATH_BYTES } from "../../../services/union/shared.ts";
import { DANAUS_PATH_MAX, PATH_MAX } from "../../../kernel/ipc/protocol/index.ts";

/** A union path `bytes` long, distinct for each `tag`, with a byte that is not UTF-8. */
function deepPath(bytes: number, tag: number): string {
  return `${tag}/\xff`.padEnd(bytes, "d");
}

describe("DirTable", () => {
  test("a path longer than a slot round-trips through the long-path pool, seen from another thread's view", () => {
    const shared = createUnionShared({ maxDirHandles: 8 });
    const table = new DirTable(shared);
    const other = new DirTable(shared);
    const short = table.insert({ branch: 0, handle: 5, path: "a/b" })!;
    const long = table.insert({ branch: 1, handle: 6, path: deepPath(12_000, 1) })!;
    expect(other.get(short.slot, short.generation)).toEqual({ branch: 0, handle: 5, path: "a/b" });
    expect(other.get(long.slot, long.generation)).toEqual({ branch: 1, handle: 6, path: deepPath(12_000, 1) });
    expect(other.remove(long.slot, long.generation)?.path).toBe(deepPath(12_000, 1));
    expect(table.get(long.slot, long.generation)).toBeNull();
  });

  test("no bound on a path but the pool: far past DANAUS_PATH_MAX round-trips; a full pool answers null (EMFILE) until a deep directory closes", () => {
    const table = new DirTable(createUnionShared({ maxDirHandles: 8 }));
    const deep = table.insert({ branch: 0, handle: 1, path: deepPath(DANAUS_PATH_MAX * 4 + 3, 1) })!;
    expect(table.get(deep.slot, deep.generation)?.path).toBe(deepPath(DANAUS_PATH_MAX * 4 + 3, 1));
    // The rest of the pool in one path: the next deep directory finds no room.
    const rest = table.insert({ branch: 0, handle: 2, path: deepPath(LONG_PATH_BYTES - DANAUS_PATH_MAX * 4 - 4096, 2) })!;
    expect(rest).not.toBeNull();
    expect(table.insert({ branch: 0, handle: 3, path: deepPath(PATH_MAX + 1, 3) })).toBeNull();
    // Paths a slot holds itself are not limited by the pool.
    expect(table.insert({ branch: 0, handle: 4, path: deepPath(PATH_MAX, 4) })).not.toBeNull();
    table.remove(deep.slot, deep.generation);
    const again = table.insert({ branch: 0, handle: 3, path: deepPath(PATH_MAX + 1, 3) })!;
    expect(table.get(again.slot, again.generation)?.path).toBe(deepPath(PATH_MAX + 1, 3));
    expect(table.get(rest.slot, rest.generation)?.path).toBe(deepPath(LONG_PATH_BYTES - DANAUS_PATH_MAX * 4 - 4096, 2));
  });
});
