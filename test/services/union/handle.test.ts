/** @module test/services/union/handle — the union handle encoding: file handles carry the branch, directory handles a slot and generation. */
import { expect, test } from "bun:test";
import { decodeHandle, encodeDirHandle, encodeFileHandle, MAX_BRANCH_HANDLE } from "../../../services/union/handle.ts";
import { createUnionShared } from "../../../services/union/index.ts";
import { DirTable } from "../../../services/union/shared.ts";

test("file handles round-trip and stay int32 ≥ 0", () => {
  for (const [branch, handle] of [[0, 0], [3, 17], [15, MAX_BRANCH_HANDLE - 1]] as const) {
    const fd = encodeFileHandle(branch, handle);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(fd).toBeLessThan(2 ** 31);
    expect(decodeHandle(fd)).toEqual({ kind: "file", branch, handle });
  }
  expect(encodeFileHandle(0, MAX_BRANCH_HANDLE)).toBe(-1);
  expect(encodeFileHandle(16, 1)).toBe(-1);
  for (const bad of [-1, 1.5, 2 ** 31, Number.NaN]) expect(decodeHandle(bad)).toBeNull();
});

test("directory handles name a slot and generation; a closed or reused slot's old handle is refused", () => {
  const table = new DirTable(createUnionShared({ maxDirHandles: 2 }));
  const first = table.insert({ branch: 1, handle: 42, path: "a/b" })!;
  const fd = encodeDirHandle(first.slot, first.generation);
  expect(fd).toBeGreaterThanOrEqual(2 ** 30);
  expect(fd).toBeLessThan(2 ** 31);
  expect(decodeHandle(fd)).toEqual({ kind: "dir", slot: first.slot, generation: first.generation });
  expect(table.get(first.slot, first.generation)).toEqual({ branch: 1, handle: 42, path: "a/b" });
  expect(table.insert({ branch: 0, handle: 1, path: "" })).not.toBeNull();
  expect(table.insert({ branch: 0, handle: 2, path: "" })).toBeNull();
  expect(table.remove(first.slot, first.generation)).not.toBeNull();
  expect(table.remove(first.slot, first.generation)).toBeNull();
  const again = table.insert({ branch: 0, handle: 3, path: "ü/ñ" })!;
  expect(again.slot).toBe(first.slot);
  expect(again.generation).not.toBe(first.generation);
  expect(table.get(first.slot, first.generation)).toBeNull();
  expect(table.get(again.slot, again.generation)?.path).toBe("ü/ñ");
});
