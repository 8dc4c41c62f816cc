/** @module struct — C struct layouts declared as data (name, type, offset), with derived sizes and DataView codecs. */
import { readScalar, SCALAR_SIZE, writeScalar, type ScalarType } from "./scalar.ts";

/**
 * One field as declared: its C name, scalar type, byte offset and, for arrays, element count.
 * Names starting with `__` are padding or reserved space: always written as zero, left out of decoded values.
 */
export interface FieldSpec {
  readonly name: string;
  readonly type: ScalarType;
  readonly offset: number;
  readonly count?: number;
  /** One line for the generated C header. */
  readonly doc?: string;
}

/** A field with its derived element size and count. */
export interface Field extends FieldSpec {
  readonly count: number;
  /** Size of one element in bytes. */
  readonly size: number;
  /** Declared with a count: decodes to number[] and is a C array. */
  readonly array: boolean;
}

type ValueFields<F extends readonly FieldSpec[]> = Exclude<F[number], { readonly name: `__${string}` }>;

/** The decoded value of a struct: one number per scalar field, one number[] per array field. */
export type StructValue<F extends readonly FieldSpec[]> = {
  [K in ValueFields<F> as K["name"]]: K extends { readonly count: number } ? number[] : number;
};

/** The layout half of a struct (no codecs): what the region table and the C generator need. */
export interface StructLayout {
  /** The C name (`danaus_stat`), also the tag of the generated `struct`. */
  readonly name: string;
  readonly doc: string;
  readonly fields: readonly Field[];
  /** sizeof in C: the end of the last field rounded up to the struct's alignment. */
  readonly size: number;
  /** alignof in C: the largest field alignment. */
  readonly align: number;
  /** A trailing C flexible array member (`char d_name[]`) starting right after the last field, if declared. */
  readonly flexible?: { readonly name: string; readonly type: ScalarType; readonly offset: number };
}

/** A struct layout with derived size and codecs; see {@link defineStruct}. */
export interface Struct<F extends readonly FieldSpec[]> extends StructLayout {
  /** Byte offset of each field by name. */
  readonly offsets: { readonly [K in F[number]["name"]]: number };
  /** Decode the struct found at `base` in `view`. Never throws for in-bounds `base`; any bit pattern decodes. */
  read(view: DataView, base: number): StructValue<F>;
  /** Encode `value` at `base` in `view`, zeroing padding fields. Missing fields are written as 0. */
  write(view: DataView, base: number, value: Partial<StructValue<F>>): void;
}

/** A struct declaration that is not laid out the way a C compiler would lay it out. */
export class StructLayoutError extends Error {
  override readonly name = "StructLayoutError";
  constructor(readonly struct: string, readonly field: string, readonly problem: string) {
    super(`struct ${struct}, field ${field}: ${problem}; fix the declaration so C and TypeScript agree`);
  }
}

/**
 * Declare a struct layout. Offsets are given explicitly (they are the wire format) and checked here:
 * fields in increasing order, naturally aligned, without overlap or implicit holes — so a C compiler
 * given the generated declaration places every field at the same offset. Throws {@link StructLayoutError}.
 */
export function defineStruct<const F extends readonly FieldSpec[]>(
  name: string,
  doc: string,
  specs: F,
  options: { readonly flexible?: { readonly name: string; readonly type: ScalarType } } = {},
): Struct<F> {
  const fields: Field[] = [];
  let end = 0;
  let align = 1;
  for (const spec of specs) {
    const size = SCALAR_SIZE[spec.type];
    const count = spec.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new StructLayoutError(name, spec.name, `count ${count} is not a positive integer`);
    if (spec.offset % size !== 0) throw new StructLayoutError(name, spec.name, `offset ${spec.offset} is not aligned to ${size}`);
    if (spec.offset !== end) {
      const what = spec.offset < end ? "overlaps the previous field" : `leaves an undeclared hole of ${spec.offset - end} bytes`;
      throw new StructLayoutError(name, spec.name, `offset ${spec.offset} ${what} (expected ${end})`);
    }
    if (fields.some((f) => f.name === spec.name)) throw new StructLayoutError(name, spec.name, "declared twice");
    fields.push({ ...spec, count, size, array: spec.count !== undefined });
    end = spec.offset + size * count;
    align = Math.max(align, size);
  }
  const size = Math.ceil(end / align) * align;
  const offsets = Object.fromEntries(fields.map((f) => [f.name, f.offset])) as Struct<F>["offsets"];

  const read = (view: DataView, base: number): StructValue<F> => {
    const out: Record<string, number | number[]> = {};
    for (const f of fields) {
      if (f.name.startsWith("__")) continue;
      if (!f.array) {
        out[f.name] = readScalar(view, base + f.offset, f.type);
      } else {
        const items: number[] = [];
        for (let i = 0; i < f.count; i++) items.push(readScalar(view, base + f.offset + i * f.size, f.type));
        out[f.name] = items;
      }
    }
    return out as StructValue<F>;
  };

  const write = (view: DataView, base: number, value: Partial<StructValue<F>>): void => {
    const record = value as Record<string, number | number[] | undefined>;
    for (const f of fields) {
      const given = f.name.startsWith("__") ? undefined : record[f.name];
      for (let i = 0; i < f.count; i++) {
        const item = Array.isArray(given) ? given[i] : given;
        writeScalar(view, base + f.offset + i * f.size, f.type, item ?? 0);
      }
    }
  };

  const flexible = options.flexible && { ...options.flexible, offset: end };
  return { name, doc, fields, size, align, ...(flexible ? { flexible } : {}), offsets, read, write };
}
