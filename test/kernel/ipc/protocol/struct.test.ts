/** Tests for kernel/ipc/protocol/struct.ts: layouts declared as data, checked like a C compiler, with codecs. */
import { describe, expect, test } from "bun:test";
import { defineStruct, StructLayoutError } from "../../../../kernel/ipc/protocol/struct.ts";

const SAMPLE = defineStruct("sample", "a test struct", [
  { name: "a", type: "u8", offset: 0 },
  { name: "__pad", type: "u8", offset: 1, count: 3 },
  { name: "b", type: "i32", offset: 4 },
  { name: "c", type: "u64", offset: 8, count: 2 },
  { name: "d", type: "u16", offset: 24 },
]);

describe("defineStruct", () => {
  test("derives size (rounded to alignment), alignment and offsets", () => {
    expect(SAMPLE.size).toBe(32);
    expect(SAMPLE.align).toBe(8);
    expect(SAMPLE.offsets).toEqual({ a: 0, __pad: 1, b: 4, c: 8, d: 24 });
    expect(SAMPLE.fields.map((f) => [f.name, f.size, f.count, f.array])).toEqual([
      ["a", 1, 1, false], ["__pad", 1, 3, true], ["b", 4, 1, false], ["c", 8, 2, true], ["d", 2, 1, false],
    ]);
  });

  test("round-trips a value and zeroes padding", () => {
    const view = new DataView(new ArrayBuffer(40));
    new Uint8Array(view.buffer).fill(0xee);
    SAMPLE.write(view, 8, { a: 9, b: -3, c: [2 ** 40, 7], d: 65535 });
    expect(SAMPLE.read(view, 8)).toEqual({ a: 9, b: -3, c: [2 ** 40, 7], d: 65535 });
    expect([...new Uint8Array(view.buffer, 9, 3)]).toEqual([0, 0, 0]);
    expect(new Uint8Array(view.buffer)[7]).toBe(0xee);
  });

  test("missing fields are written as zero", () => {
    const view = new DataView(new ArrayBuffer(32));
    new Uint8Array(view.buffer).fill(1);
    SAMPLE.write(view, 0, { b: 5 });
    expect(SAMPLE.read(view, 0)).toEqual({ a: 0, b: 5, c: [0, 0], d: 0 });
  });

  test.each([
    ["a misaligned field", [{ name: "x", type: "u8", offset: 0 }, { name: "y", type: "u32", offset: 2 }], "not aligned"],
    ["an implicit hole", [{ name: "x", type: "u8", offset: 0 }, { name: "y", type: "u32", offset: 4 }], "hole of 3 bytes"],
    ["an overlap", [{ name: "x", type: "u32", offset: 0 }, { name: "y", type: "u16", offset: 2 }], "overlaps"],
    ["a repeated name", [{ name: "x", type: "u32", offset: 0 }, { name: "x", type: "u32", offset: 4 }], "declared twice"],
    ["a zero count", [{ name: "x", type: "u32", offset: 0, count: 0 }], "count 0"],
  ] as const)("rejects %s", (_what, fields, message) => {
    expect(() => defineStruct("bad", "", fields)).toThrow(StructLayoutError);
    expect(() => defineStruct("bad", "", fields)).toThrow(message);
  });

  test("places a flexible array member right after the last field", () => {
    const s = defineStruct("flex", "", [{ name: "n", type: "u64", offset: 0 }, { name: "k", type: "u8", offset: 8 }], {
      flexible: { name: "tail", type: "u8" },
    });
    expect(s.flexible).toEqual({ name: "tail", type: "u8", offset: 9 });
    expect(s.size).toBe(16);
  });
});
