/** Tests for kernel/ipc/protocol/scalar.ts: little-endian scalars and BigInt-free 64-bit access. */
import { describe, expect, test } from "bun:test";
import { readInt64, readScalar, writeInt64, writeScalar, SCALAR_SIZE } from "../../../../kernel/ipc/protocol/scalar.ts";

describe("64-bit integers as numbers", () => {
  const cases = [0, 1, -1, 255, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 32 + 1, -(2 ** 32) - 1, 2 ** 53 - 1, -(2 ** 53 - 1), 4 * 2 ** 30 + 12345];
  test.each(cases)("i64 %p round-trips and matches DataView's BigInt encoding", (value) => {
    const view = new DataView(new ArrayBuffer(8));
    writeInt64(view, 0, value);
    expect(view.getBigInt64(0, true)).toBe(BigInt(value));
    expect(readInt64(view, 0, true)).toBe(value);
  });

  test("u64 reads the high half unsigned", () => {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, 2n ** 52n + 3n, true);
    expect(readInt64(view, 0, false)).toBe(2 ** 52 + 3);
    view.setBigUint64(0, 2n ** 63n, true);
    expect(readInt64(view, 0, false)).toBe(2 ** 63);
    expect(readInt64(view, 0, true)).toBe(-(2 ** 63));
  });
});

describe("scalars", () => {
  test("every type round-trips at its size, little-endian", () => {
    const view = new DataView(new ArrayBuffer(16));
    for (const type of ["u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64"] as const) {
      const value = type.startsWith("i") ? -5 : 200;
      new Uint8Array(view.buffer).fill(0xaa);
      writeScalar(view, 4, type, value);
      expect(readScalar(view, 4, type)).toBe(value);
      expect(view.getUint8(4 + SCALAR_SIZE[type])).toBe(0xaa);
    }
    writeScalar(view, 0, "u32", 0x01020304);
    expect([...new Uint8Array(view.buffer, 0, 4)]).toEqual([4, 3, 2, 1]);
  });

  test("out-of-range values wrap as in C", () => {
    const view = new DataView(new ArrayBuffer(8));
    writeScalar(view, 0, "u8", 257);
    expect(readScalar(view, 0, "u8")).toBe(1);
    writeScalar(view, 0, "u32", -1);
    expect(readScalar(view, 0, "u32")).toBe(0xffffffff);
  });
});
