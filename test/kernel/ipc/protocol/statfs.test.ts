/** Tests for kernel/ipc/protocol/statfs.ts: the statfs reply is x86-64 `struct statfs`, byte for byte. */
import { describe, expect, test } from "bun:test";
import { decodeStatfs, encodeStatfs, STATFS } from "../../../../kernel/ipc/protocol/statfs.ts";

describe("danaus_statfs", () => {
  test("has the x86-64 struct statfs size and offsets", () => {
    expect(STATFS.size).toBe(120);
    expect(STATFS.offsets).toMatchObject({
      f_type: 0, f_bsize: 8, f_blocks: 16, f_bfree: 24, f_bavail: 32, f_files: 40, f_ffree: 48, f_fsid: 56,
      f_namelen: 64, f_frsize: 72, f_flags: 80,
    });
  });

  test("golden bytes and round trip", () => {
    const bytes = new Uint8Array(STATFS.size).fill(0xaa);
    const view = new DataView(bytes.buffer);
    const value = {
      f_type: 0x01021994, f_bsize: 4096, f_blocks: 2 ** 40, f_bfree: 3, f_bavail: 2, f_files: 100, f_ffree: 50,
      f_fsid: [-1, 7], f_namelen: 255, f_frsize: 4096, f_flags: 0x20,
    };
    expect(encodeStatfs(view, 0, value)).toBe(120);
    expect([...bytes.subarray(0, 8)]).toEqual([0x94, 0x19, 0x02, 0x01, 0, 0, 0, 0]);            // f_type @0: TMPFS_MAGIC
    expect([...bytes.subarray(56, 64)]).toEqual([0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0]);          // f_fsid[2] @56: {-1, 7}
    expect([...bytes.subarray(88, 120)]).toEqual(new Array(32).fill(0));                       // __spare[4] @88: zeroed
    expect(decodeStatfs(view, 0)).toEqual(value);
  });
});
