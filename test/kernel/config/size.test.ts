/** @module size.test — size strings. */
import { describe, expect, test } from "bun:test";
import { formatSize, parseSize } from "../../../kernel/config/index.ts";

describe("parseSize", () => {
  test("binary and decimal units, plain bytes", () => {
    expect(parseSize("512MiB")).toBe(512 * 1024 ** 2);
    expect(parseSize("2G")).toBe(2 * 1024 ** 3);
    expect(parseSize("1.5GB")).toBe(1.5e9);
    expect(parseSize("64 kib")).toBe(65536);
    expect(parseSize(4096)).toBe(4096);
  });

  test("not a size", () => {
    expect(parseSize("12QB")).toBeNull();
    expect(parseSize("lots")).toBeNull();
    expect(parseSize(-1)).toBeNull();
    expect(parseSize(1.5)).toBeNull();
  });
});

describe("formatSize", () => {
  test("the largest whole unit", () => {
    expect(formatSize(2 * 1024 ** 3)).toBe("2GiB");
    expect(formatSize(1536 * 1024 ** 2)).toBe("1536MiB");
    expect(formatSize(100)).toBe("100B");
  });
});
