/** @module test/kernel/ipc/ring/chunk-store — byte strings of any length in a shared pool of chunks. */
import { describe, expect, test } from "bun:test";
import { ChunkStore } from "../../../../kernel/ipc/ring/index.ts";

const pattern = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);

describe("ChunkStore", () => {
  test("a string spanning chunks round-trips, whole and in pieces at any offset, through another view of the pool", () => {
    const pool = ChunkStore.allocate(16, 10);
    const store = new ChunkStore(pool);
    const other = new ChunkStore(pool);
    const data = pattern(57, 3);
    const head = store.take(data.length);
    expect(store.used).toBe(6);
    store.write(head, 0, data.subarray(0, 13));
    store.write(head, 13, data.subarray(13));
    expect(other.read(head, 0, 57)).toEqual(data);
    expect(other.read(head, 18, 25)).toEqual(data.subarray(18, 43));
    expect(() => other.read(head, 50, 11)).toThrow(RangeError);
  });

  test("take answers -1 when too few chunks are free; released chains are reused and the count follows", () => {
    const store = new ChunkStore(ChunkStore.allocate(4, 8));
    const a = store.take(17);
    const b = store.take(1);
    expect([store.used, store.take(9)]).toEqual([4, -1]);
    store.release(a);
    expect(store.used).toBe(1);
    const c = store.take(24);
    expect(c).toBeGreaterThanOrEqual(0);
    store.write(c, 0, pattern(24, 1));
    store.write(b, 0, pattern(8, 2));
    expect(store.read(c, 0, 24)).toEqual(pattern(24, 1));
    expect(store.read(b, 0, 8)).toEqual(pattern(8, 2));
    expect(store.take(1)).toBe(-1);
  });

  test("a pool needs one chunk of one byte at least", () => {
    expect(() => ChunkStore.allocate(0, 8)).toThrow(RangeError);
    expect(() => ChunkStore.allocate(4, 0)).toThrow(RangeError);
  });
});
