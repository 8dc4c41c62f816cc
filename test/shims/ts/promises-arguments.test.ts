/** Tests of shims/ts/promises/arguments.ts: Node's flag strings, modes, times and path forms, without a service. */
import { describe, expect, test } from "bun:test";
import { constants } from "node:fs";
import { toFlags, toMode, toPath, toSeconds, toTimespec, encodingOf } from "../../../shims/ts/promises/arguments.ts";

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, O_EXCL, O_SYNC } = constants;

describe("toFlags", () => {
  test("maps Node's flag strings to O_* bits", () => {
    expect(toFlags("r")).toBe(O_RDONLY);
    expect(toFlags("r+")).toBe(O_RDWR);
    expect(toFlags("rs+")).toBe(O_RDWR | O_SYNC);
    expect(toFlags("w")).toBe(O_TRUNC | O_CREAT | O_WRONLY);
    expect(toFlags("wx")).toBe(O_TRUNC | O_CREAT | O_WRONLY | O_EXCL);
    expect(toFlags("xw+")).toBe(O_TRUNC | O_CREAT | O_RDWR | O_EXCL);
    expect(toFlags("a")).toBe(O_APPEND | O_CREAT | O_WRONLY);
    expect(toFlags("ax+")).toBe(O_APPEND | O_CREAT | O_RDWR | O_EXCL);
    expect(toFlags("as")).toBe(O_APPEND | O_CREAT | O_WRONLY | O_SYNC);
  });
  test("passes numbers through and uses the fallback for null/undefined", () => {
    expect(toFlags(O_RDWR | O_CREAT)).toBe(O_RDWR | O_CREAT);
    expect(toFlags(undefined, "a")).toBe(O_APPEND | O_CREAT | O_WRONLY);
    expect(toFlags(null)).toBe(O_RDONLY);
  });
  test("refuses unknown strings with ERR_INVALID_ARG_VALUE", () => {
    expect(() => toFlags("rw")).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
    expect(() => toFlags(1.5)).toThrow(TypeError);
  });
});

describe("toMode", () => {
  test("numbers, octal strings and the fallback", () => {
    expect(toMode(0o640, 0)).toBe(0o640);
    expect(toMode("755", 0)).toBe(0o755);
    expect(toMode(undefined, 0o666)).toBe(0o666);
  });
  test("refuses non-octal strings and negative numbers", () => {
    expect(() => toMode("9", 0)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
    expect(() => toMode(-1, 0)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
  });
});

describe("times", () => {
  test("seconds from numbers, numeric strings and Dates; negative means now", () => {
    expect(toSeconds(1000.5, "atime")).toBe(1000.5);
    expect(toSeconds("42", "atime")).toBe(42);
    expect(toSeconds(new Date(1500), "atime")).toBe(1.5);
    expect(Math.abs(toSeconds(-1, "atime") - Date.now() / 1000)).toBeLessThan(5);
    expect(() => toSeconds({}, "atime")).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
  });
  test("timespecs split seconds exactly", () => {
    expect(toTimespec(1000.25)).toEqual({ sec: 1000, nsec: 250_000_000 });
    expect(toTimespec(5)).toEqual({ sec: 5, nsec: 0 });
    expect(toTimespec(1.9999999999)).toEqual({ sec: 2, nsec: 0 });
  });
});

describe("paths and encodings", () => {
  test("strings (UTF-8 text), Buffers (exact bytes) and file URLs", () => {
    expect(toPath("/mnt/x")).toEqual(Buffer.from("/mnt/x"));
    expect(toPath("/mnt/é")).toEqual(Buffer.from([0x2f, 0x6d, 0x6e, 0x74, 0x2f, 0xc3, 0xa9]));
    expect(toPath(Buffer.from([0x2f, 0xff, 0xfe]))).toEqual(Buffer.from([0x2f, 0xff, 0xfe]));
    expect(toPath(new URL("file:///mnt/a%20b"))).toEqual(Buffer.from("/mnt/a b"));
    expect(() => toPath(new URL("http://example.com/"))).toThrow(TypeError);
    expect(() => toPath(42)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
  });
  test("encodings from strings and option objects", () => {
    expect(encodingOf("utf8")).toBe("utf8");
    expect(encodingOf({ encoding: "base64" })).toBe("base64");
    expect(encodingOf({})).toBeNull();
    expect(encodingOf(undefined, "utf8")).toBe("utf8");
    expect(encodingOf({ encoding: null }, "utf8")).toBeNull();
    expect(() => encodingOf("klingon")).toThrow(TypeError);
  });
});
