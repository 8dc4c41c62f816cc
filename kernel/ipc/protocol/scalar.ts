/** @module scalar — the fixed-width integer types of the wire format, with their C names and little-endian DataView access. */

/** A wire scalar type; every value is little-endian, as on x86-64. */
export type ScalarType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64";

/** Size in bytes of one scalar (also its natural alignment). */
export const SCALAR_SIZE: Readonly<Record<ScalarType, number>> = {
  u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, u64: 8, i64: 8,
};

/** The `<stdint.h>` spelling of each scalar, used by the C header generator. */
export const SCALAR_C_TYPE: Readonly<Record<ScalarType, string>> = {
  u8: "uint8_t", i8: "int8_t", u16: "uint16_t", i16: "int16_t",
  u32: "uint32_t", i32: "int32_t", u64: "uint64_t", i64: "int64_t",
};

const TWO_32 = 4294967296;

/**
 * Read a 64-bit integer as a JS number without allocating a BigInt.
 * Exact while |value| < 2^53 (offsets, sizes, inode numbers in practice); larger values are rounded.
 */
export function readInt64(view: DataView, offset: number, signed: boolean): number {
  const low = view.getUint32(offset, true);
  const high = signed ? view.getInt32(offset + 4, true) : view.getUint32(offset + 4, true);
  return high * TWO_32 + low;
}

/** Write an integral JS number as a 64-bit two's-complement little-endian integer (exact while |value| < 2^53). */
export function writeInt64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  view.setInt32(offset + 4, Math.floor(value / TWO_32) | 0, true);
}

/** Read one scalar of `type` at `offset`; 64-bit types come back as numbers (see {@link readInt64}). */
export function readScalar(view: DataView, offset: number, type: ScalarType): number {
  switch (type) {
    case "u8": return view.getUint8(offset);
    case "i8": return view.getInt8(offset);
    case "u16": return view.getUint16(offset, true);
    case "i16": return view.getInt16(offset, true);
    case "u32": return view.getUint32(offset, true);
    case "i32": return view.getInt32(offset, true);
    case "u64": return readInt64(view, offset, false);
    case "i64": return readInt64(view, offset, true);
  }
}

/** Write one scalar of `type` at `offset`; out-of-range values wrap as in C (modulo 2^bits). */
export function writeScalar(view: DataView, offset: number, type: ScalarType, value: number): void {
  switch (type) {
    case "u8": case "i8": view.setUint8(offset, value & 0xff); return;
    case "u16": case "i16": view.setUint16(offset, value & 0xffff, true); return;
    case "u32": case "i32": view.setUint32(offset, value >>> 0, true); return;
    case "u64": case "i64": writeInt64(view, offset, value); return;
  }
}
