/** Tests for kernel/ipc/protocol/payload.ts: NUL-terminated path payloads. */
import { describe, expect, test } from "bun:test";
import { ERRNO } from "../../../../kernel/ipc/protocol/errno.ts";
import { DANAUS_PATH_MAX, decodePaths, encodePaths, PATH_MAX } from "../../../../kernel/ipc/protocol/payload.ts";

describe("path payloads", () => {
  test("two paths back to back, golden bytes", () => {
    const bytes = new Uint8Array(16).fill(0xcc);
    expect(encodePaths(bytes, 2, 14, ["a/b", "c"])).toBe(6);
    expect([...bytes.subarray(0, 9)]).toEqual([0xcc, 0xcc, 0x61, 0x2f, 0x62, 0, 0x63, 0, 0xcc]);
    expect(decodePaths(bytes, 2, 14, 2)).toEqual(["a/b", "c"]);
    expect(decodePaths(bytes, 2, 14, 1)).toEqual(["a/b"]);
  });

  test("byte strings round-trip byte for byte; a string that is not one is refused", () => {
    const bytes = new Uint8Array(64);
    const utf8 = Buffer.from("dir/ファイル").toString("latin1");
    const n = encodePaths(bytes, 0, 64, [utf8, "c-\xff\xfe"]);
    expect(Buffer.from(bytes.subarray(0, n))).toEqual(Buffer.concat([Buffer.from("dir/ファイル\0"), Buffer.from([0x63, 0x2d, 0xff, 0xfe, 0])]));
    expect(decodePaths(bytes, 0, n, 2)).toEqual([utf8, "c-\xff\xfe"]);
    expect(encodePaths(bytes, 0, 64, ["dir/ファイル"])).toBe(-ERRNO.EINVAL);
  });

  test("encoding errors", () => {
    const bytes = new Uint8Array(8);
    expect(encodePaths(bytes, 0, 8, [""])).toBe(-ERRNO.EINVAL);
    expect(encodePaths(bytes, 0, 8, ["a\0b"])).toBe(-ERRNO.EINVAL);
    expect(encodePaths(bytes, 0, 8, ["12345678"])).toBe(-ERRNO.ENAMETOOLONG);
    expect(encodePaths(bytes, 0, 8, ["1234", "567"])).toBe(-ERRNO.ENAMETOOLONG);
    const big = DANAUS_PATH_MAX + 10;
    expect(encodePaths(new Uint8Array(big), 0, big, ["x".repeat(DANAUS_PATH_MAX)])).toBe(-ERRNO.ENAMETOOLONG);
  });

  test("a path longer than one syscall argument (PATH_MAX) but within DANAUS_PATH_MAX round-trips", () => {
    const deep = "/" + Array.from({ length: 40 }, (_, i) => `${i}`.padStart(200, "d")).join("/");
    expect(deep.length).toBeGreaterThan(PATH_MAX);
    const bytes = new Uint8Array(2 * deep.length + 2);
    expect(encodePaths(bytes, 0, bytes.length, [deep, deep])).toBe(bytes.length);
    expect(decodePaths(bytes, 0, bytes.length, 2)).toEqual([deep, deep]);
    const longest = "x".repeat(DANAUS_PATH_MAX - 1);
    const room = new Uint8Array(DANAUS_PATH_MAX);
    expect(encodePaths(room, 0, room.length, [longest])).toBe(DANAUS_PATH_MAX);
    expect(decodePaths(room, 0, room.length, 1)).toEqual([longest]);
  });

  test("decoding garbage answers an errno", () => {
    expect(decodePaths(new Uint8Array([0x61, 0x62]), 0, 2, 1)).toBe(ERRNO.EINVAL);
    expect(decodePaths(new Uint8Array([0, 0x61, 0]), 0, 3, 1)).toBe(ERRNO.EINVAL);
    expect(decodePaths(new Uint8Array([0x61, 0]), 0, 2, 2)).toBe(ERRNO.EINVAL);
    expect(decodePaths(new Uint8Array(4), 2, 4, 1)).toBe(ERRNO.EINVAL);
    expect(decodePaths(new Uint8Array(4), -1, 2, 1)).toBe(ERRNO.EINVAL);
    expect(decodePaths(new Uint8Array(DANAUS_PATH_MAX + 1).fill(0x61), 0, DANAUS_PATH_MAX + 1, 1)).toBe(ERRNO.ENAMETOOLONG);
  });
});
