/** Tests for kernel/ipc/protocol/stat.ts: the stat reply is x86-64 `struct stat`, byte for byte. */
import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { decodeStat, encodeStat, STAT } from "../../../../kernel/ipc/protocol/stat.ts";

describe("danaus_stat", () => {
  test("has the x86-64 struct stat size and offsets", () => {
    expect(STAT.size).toBe(144);
    expect(STAT.offsets).toMatchObject({
      st_dev: 0, st_ino: 8, st_nlink: 16, st_mode: 24, st_uid: 28, st_gid: 32, st_rdev: 40, st_size: 48,
      st_blksize: 56, st_blocks: 64, st_atime_sec: 72, st_atime_nsec: 80, st_mtime_sec: 88, st_mtime_nsec: 96,
      st_ctime_sec: 104, st_ctime_nsec: 112,
    });
  });

  test("golden bytes of a regular file of 5 GiB", () => {
    const bytes = new Uint8Array(STAT.size).fill(0xaa);
    const written = encodeStat(new DataView(bytes.buffer), 0, { st_ino: 0x1234, st_mode: 0o100644, st_size: 5 * 2 ** 30, st_nlink: 1 });
    expect(written).toBe(144);
    expect([...bytes.subarray(8, 16)]).toEqual([0x34, 0x12, 0, 0, 0, 0, 0, 0]); // st_ino @8
    expect([...bytes.subarray(16, 24)]).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);       // st_nlink @16
    expect([...bytes.subarray(24, 28)]).toEqual([0xa4, 0x81, 0, 0]);             // st_mode @24: 0o100644 = 0x81a4
    expect([...bytes.subarray(36, 40)]).toEqual([0, 0, 0, 0]);                   // __pad0 @36: zeroed
    expect([...bytes.subarray(48, 56)]).toEqual([0, 0, 0, 0x40, 1, 0, 0, 0]);    // st_size @48: 0x1_4000_0000
    expect([...bytes.subarray(120, 144)]).toEqual(new Array(24).fill(0));       // __reserved[3] @120: zeroed
  });

  test("round-trips a real file's stat", () => {
    const s = statSync(import.meta.path);
    const stat = {
      st_dev: s.dev, st_ino: s.ino, st_nlink: s.nlink, st_mode: s.mode, st_uid: s.uid, st_gid: s.gid, st_rdev: s.rdev,
      st_size: s.size, st_blksize: s.blksize, st_blocks: s.blocks,
      st_atime_sec: Math.floor(s.atimeMs / 1000), st_atime_nsec: 1, st_mtime_sec: Math.floor(s.mtimeMs / 1000), st_mtime_nsec: 999_999_999,
      st_ctime_sec: Math.floor(s.ctimeMs / 1000), st_ctime_nsec: 0,
    };
    const view = new DataView(new ArrayBuffer(STAT.size + 16));
    encodeStat(view, 16, stat);
    expect(decodeStat(view, 16)).toEqual(stat);
  });
});
