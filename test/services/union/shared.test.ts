/** @module test/services/union/shared — the shared directory-handle table: paths up to PATH_MAX in the slot, deeper ones in the long-path cells. */
import { describe, expect, test } from "bun:test";
import { createUnionShared, DirTable, LONG_PATHS } from "../../../services/union/shared.ts";
import { DANAUS_PATH_MAX, PATH_MAX } from "../../../kernel/ipc/protocol/index.ts";

/** A union path `bytes` long, distinct for each `tag`, with a byte that is not UTF-8. */
function deepPath(bytes: number, tag: number): string {
  return `${tag}/\xff`.padEnd(bytes, "d");
}

describe("DirTable", () => {
  test("a path longer than a slot round-trips through a long-path cell, seen from another thread's view", () => {
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

  test("the long-path cells bound deep directories open at once (then EMFILE); closing one frees its cell", () => {
    const table = new DirTable(createUnionShared({ maxDirHandles: LONG_PATHS + 8 }));
    const held = Array.from({ length: LONG_PATHS }, (_, i) => table.insert({ branch: 0, handle: i, path: deepPath(PATH_MAX + 1 + i, i) })!);
    expect(held.every((entry) => entry !== null)).toBe(true);
    expect(table.insert({ branch: 0, handle: 99, path: deepPath(PATH_MAX + 1, 99) })).toBeNull();
    expect(table.fits(deepPath(PATH_MAX + 1, 99))).toBe(true);
    // Paths a slot holds itself are not limited by the cells.
    expect(table.insert({ branch: 0, handle: 100, path: deepPath(PATH_MAX, 100) })).not.toBeNull();
    table.remove(held[7]!.slot, held[7]!.generation);
    const again = table.insert({ branch: 0, handle: 99, path: deepPath(DANAUS_PATH_MAX - 1, 99) })!;
    expect(table.get(again.slot, again.generation)?.path).toBe(deepPath(DANAUS_PATH_MAX - 1, 99));
    for (let i = 0; i < LONG_PATHS; i++) if (i !== 7) expect(table.get(held[i]!.slot, held[i]!.generation)?.path).toBe(deepPath(PATH_MAX + 1 + i, i));
  });

  test("a path of DANAUS_PATH_MAX bytes or more does not fit (ENAMETOOLONG)", () => {
    const table = new DirTable(createUnionShared({ maxDirHandles: 2 }));
    expect(table.fits(deepPath(DANAUS_PATH_MAX, 0))).toBe(false);
    expect(table.insert({ branch: 0, handle: 1, path: deepPath(DANAUS_PATH_MAX, 0) })).toBeNull();
  });
});
