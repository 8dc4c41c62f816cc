/** Tests for kernel/ipc/protocol/dirent.ts: packed readdir records, the same bytes as linux_dirent64. */
import { describe, expect, test } from "bun:test";
import { decodeDirents, DIRENT, DIRENT_NAME_OFFSET, direntRecordLength, DT, encodeDirents } from "../../../../kernel/ipc/protocol/dirent.ts";
import { ERRNO } from "../../../../kernel/ipc/protocol/errno.ts";

// prettier-ignore
const TWO_ENTRIES_GOLDEN = [
  // record 1: "a", a regular file
  1, 0, 0, 0, 0, 0, 0, 0,       // d_ino u64 @0: 1
  2, 0, 0, 0, 0, 0, 0, 0,       // d_off i64 @8: continue from cookie 2
  24, 0,                        // d_reclen u16 @16: 19 + "a\0" = 21, padded to 24
  8,                            // d_type u8 @18: DT_REG
  0x61, 0,                      // d_name @19: "a" NUL
  0, 0, 0,                      // padding to 8
  // record 2: "subdir", a directory
  0, 0, 0, 0, 1, 0, 0, 0,       // d_ino u64 @0: 2^32
  3, 0, 0, 0, 0, 0, 0, 0,       // d_off i64 @8: 3
  32, 0,                        // d_reclen u16 @16: 19 + "subdir\0" = 26, padded to 32
  4,                            // d_type u8 @18: DT_DIR
  0x73, 0x75, 0x62, 0x64, 0x69, 0x72, 0, // d_name @19: "subdir" NUL
  0, 0, 0, 0, 0, 0,             // padding to 8
];

describe("danaus_dirent", () => {
  test("fixed part is linux_dirent64's", () => {
    expect(DIRENT.offsets).toEqual({ d_ino: 0, d_off: 8, d_reclen: 16, d_type: 18 });
    expect(DIRENT.flexible).toEqual({ name: "d_name", type: "u8", offset: DIRENT_NAME_OFFSET });
    expect(direntRecordLength(1)).toBe(24);
    expect(direntRecordLength(4)).toBe(24);
    expect(direntRecordLength(5)).toBe(32);
  });

  const entries = [
    { ino: 1, next: 2, type: DT.REG, name: "a" },
    { ino: 2 ** 32, next: 3, type: DT.DIR, name: "subdir" },
  ];

  test("encodes to the golden bytes", () => {
    const bytes = new Uint8Array(64).fill(0xcc);
    expect(encodeDirents(entries, bytes, 0, 64)).toEqual({ count: 2, length: 56 });
    expect([...bytes.subarray(0, 56)]).toEqual(TWO_ENTRIES_GOLDEN);
    expect(bytes[56]).toBe(0xcc);
  });

  test("decodes the golden bytes", () => {
    expect(decodeDirents(new Uint8Array(TWO_ENTRIES_GOLDEN), 0, TWO_ENTRIES_GOLDEN.length)).toEqual(entries);
  });

  test("stops at the capacity and says how many fit", () => {
    const bytes = new Uint8Array(64);
    expect(encodeDirents(entries, bytes, 8, 40)).toEqual({ count: 1, length: 24 });
    expect(decodeDirents(bytes, 8, 24)).toEqual([entries[0]!]);
  });

  test("round-trips names byte for byte (byte strings: UTF-8 text and bytes that are not UTF-8)", () => {
    const many = [
      { ino: 9, next: 1, type: DT.LNK, name: Buffer.from("héllo-ü-名前").toString("latin1") },
      { ino: 10, next: 2, type: DT.REG, name: "c-\xff\xfe\x80" },
    ];
    const bytes = new Uint8Array(128);
    const { count, length } = encodeDirents(many, bytes, 0, 128);
    expect(count).toBe(2);
    expect(bytes.subarray(DIRENT_NAME_OFFSET, DIRENT_NAME_OFFSET + 4)).toEqual(new Uint8Array([0x68, 0xc3, 0xa9, 0x6c]));
    expect(decodeDirents(bytes, 0, length)).toEqual(many);
  });

  test.each([
    ["a record length that is not a multiple of 8", (b: number[]) => { b[16] = 23; }],
    ["a record length past the end", (b: number[]) => { b[16] = 64; }],
    ["a record length of zero (would loop forever)", (b: number[]) => { b[16] = 0; }],
    ["an empty name", (b: number[]) => { b[19] = 0; }],
    ["a name without NUL", (b: number[]) => { b[20] = 0x62; b[21] = 0x62; b[22] = 0x62; b[23] = 0x62; }],
  ])("rejects %s with EINVAL", (_what, corrupt) => {
    const bytes = [...TWO_ENTRIES_GOLDEN];
    corrupt(bytes);
    expect(decodeDirents(new Uint8Array(bytes), 0, bytes.length)).toBe(ERRNO.EINVAL);
  });

  test("rejects a window outside the bytes and a truncated record", () => {
    expect(decodeDirents(new Uint8Array(TWO_ENTRIES_GOLDEN), 8, 56)).toBe(ERRNO.EINVAL);
    expect(decodeDirents(new Uint8Array(TWO_ENTRIES_GOLDEN), 0, 30)).toBe(ERRNO.EINVAL);
  });
});
