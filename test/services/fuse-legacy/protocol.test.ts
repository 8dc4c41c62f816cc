/**
 * @module test/services/fuse-legacy/protocol — golden byte fixtures for the FUSE structs and messages: each array is
 * hand-built from <linux/fuse.h> with per-field comments and checked against both decode and encode.
 */
import { describe, expect, test } from "bun:test";
import {
  decodeInHeader,
  decodeNames,
  encodeFuseDirent,
  encodeNotifyInvalEntry,
  encodeNotifyInvalInode,
  encodeOutHeader,
  EXPECTED_SIZES,
  FUSE_OP,
  FUSE_OPCODES,
  fuse_access_in,
  fuse_attr,
  fuse_attr_out,
  fuse_batch_forget_in,
  fuse_create_in,
  fuse_dirent,
  fuse_entry_out,
  fuse_flush_in,
  fuse_forget_in,
  fuse_forget_one,
  fuse_fsync_in,
  fuse_getattr_in,
  fuse_init_in,
  fuse_init_out,
  fuse_interrupt_in,
  fuse_kstatfs,
  fuse_link_in,
  fuse_lseek_in,
  fuse_lseek_out,
  fuse_mkdir_in,
  fuse_mknod_in,
  fuse_notify_inval_entry_out,
  fuse_notify_inval_inode_out,
  fuse_open_in,
  fuse_open_out,
  fuse_read_in,
  fuse_release_in,
  fuse_rename2_in,
  fuse_rename_in,
  fuse_setattr_in,
  fuse_write_in,
  fuse_write_out,
  fuseDirentSize,
  fuseOpcode,
  fuseOpcodeName,
} from "../../../services/fuse-legacy/protocol/index.ts";
import type { Struct, FieldSpec } from "../../../kernel/ipc/protocol/index.ts";

// Little-endian byte builders, so fixtures read field by field.
const u16 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff];
const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const u64 = (n: number): number[] => [...u32(n >>> 0), ...u32(Math.floor(n / 2 ** 32))];
const zeros = (count: number): number[] => new Array<number>(count).fill(0);
const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

/** Asserts that `bytes` decodes to `value` and `value` encodes to `bytes`. */
function golden<F extends readonly FieldSpec[]>(struct: Struct<F>, bytes: number[], value: Record<string, number | number[]>): void {
  expect(bytes.length).toBe(struct.size);
  const decoded = struct.read(new DataView(new Uint8Array(bytes).buffer), 0) as Record<string, unknown>;
  expect(decoded).toEqual(value);
  const encoded = new Uint8Array(struct.size).fill(0xee);
  struct.write(new DataView(encoded.buffer), 0, value as never);
  expect([...encoded]).toEqual(bytes);
}

describe("struct sizes match <linux/fuse.h>", () => {
  test("each struct has the kernel's sizeof", () => {
    const structs = [
      fuse_init_in, fuse_init_out, fuse_attr, fuse_getattr_in, fuse_setattr_in, fuse_open_in, fuse_open_out, fuse_create_in,
      fuse_read_in, fuse_write_in, fuse_write_out, fuse_release_in, fuse_flush_in, fuse_fsync_in, fuse_mkdir_in,
      fuse_mknod_in, fuse_rename_in, fuse_rename2_in, fuse_link_in, fuse_access_in, fuse_kstatfs, fuse_forget_in,
      fuse_batch_forget_in, fuse_forget_one, fuse_interrupt_in, fuse_dirent, fuse_lseek_in, fuse_lseek_out,
    ];
    // sizeof values copied from <linux/fuse.h> by hand, independent of EXPECTED_SIZES.
    const fromHeader: Record<string, number> = {
      fuse_init_in: 64, fuse_init_out: 64, fuse_attr: 88, fuse_getattr_in: 16, fuse_setattr_in: 88, fuse_open_in: 8,
      fuse_open_out: 16, fuse_create_in: 16, fuse_read_in: 40, fuse_write_in: 40, fuse_write_out: 8, fuse_release_in: 24,
      fuse_flush_in: 24, fuse_fsync_in: 16, fuse_mkdir_in: 8, fuse_mknod_in: 16, fuse_rename_in: 8, fuse_rename2_in: 16,
      fuse_link_in: 8, fuse_access_in: 8, fuse_kstatfs: 80, fuse_forget_in: 8, fuse_batch_forget_in: 8, fuse_forget_one: 16,
      fuse_interrupt_in: 8, fuse_dirent: 24, fuse_lseek_in: 24, fuse_lseek_out: 8,
    };
    for (const struct of structs) {
      expect([struct.name, struct.size]).toEqual([struct.name, fromHeader[struct.name] ?? -1]);
      expect(EXPECTED_SIZES[struct.name]).toBe(struct.size);
    }
    expect(fuse_entry_out.size + fuse_attr.size).toBe(128);
    expect(fuse_attr_out.size + fuse_attr.size).toBe(104);
  });
});

describe("golden request fixtures", () => {
  test("fuse_in_header + INIT request (as the 7.45 kernel sends it)", () => {
    const request = [
      ...u32(104), // len: 40 header + 64 body
      ...u32(26), // opcode FUSE_INIT
      ...u64(2), // unique
      ...u64(0), // nodeid
      ...u32(0), ...u32(0), ...u32(0), // uid, gid, pid
      ...u16(0), ...u16(0), // total_extlen, padding
      ...u32(7), ...u32(45), // major, minor
      ...u32(131072), // max_readahead
      ...u32(0x73fffffb), // flags
      ...u32(0x00000001), // flags2
      ...zeros(44), // unused[11]
    ];
    const bytes = new Uint8Array(request);
    const header = decodeInHeader(new DataView(bytes.buffer));
    expect(header).toEqual({ len: 104, opcode: FUSE_OP.INIT, unique: 2, nodeid: 0, uid: 0, gid: 0, pid: 0, total_extlen: 0 });
    golden(fuse_init_in, request.slice(40), { major: 7, minor: 45, max_readahead: 131072, flags: 0x73fffffb, flags2: 1 });
  });

  test("LOOKUP: header then a NUL-terminated name; RENAME: two names", () => {
    const bytes = new Uint8Array([...ascii("file.txt"), 0, ...ascii("old"), 0, ...ascii("new"), 0]);
    expect(decodeNames(bytes, 0, bytes.length, 1)).toEqual(["file.txt"]);
    expect(decodeNames(bytes, 9, bytes.length, 2)).toEqual(["old", "new"]);
    expect(decodeNames(bytes, 9, 12, 2)).toBeUndefined(); // second name cut off
  });

  test("fuse_getattr_in", () => golden(fuse_getattr_in, [...u32(1), ...u32(0), ...u64(7)], { getattr_flags: 1, fh: 7 }));

  test("fuse_setattr_in", () =>
    golden(
      fuse_setattr_in,
      [
        ...u32(0x39), ...u32(0), // valid MODE|SIZE|ATIME|MTIME, padding
        ...u64(5), ...u64(4096), ...u64(0), // fh, size, lock_owner
        ...u64(1_700_000_000), ...u64(1_700_000_001), ...u64(0), // atime, mtime, ctime
        ...u32(11), ...u32(22), ...u32(0), // atimensec, mtimensec, ctimensec
        ...u32(0o100644), ...u32(0), // mode, unused4
        ...u32(1000), ...u32(1001), ...u32(0), // uid, gid, unused5
      ],
      {
        valid: 0x39, fh: 5, size: 4096, lock_owner: 0, atime: 1_700_000_000, mtime: 1_700_000_001, ctime: 0,
        atimensec: 11, mtimensec: 22, ctimensec: 0, mode: 0o100644, uid: 1000, gid: 1001,
      },
    ));

  test("fuse_open_in", () => golden(fuse_open_in, [...u32(0o100002), ...u32(0)], { flags: 0o100002, open_flags: 0 }));
  test("fuse_create_in", () =>
    golden(fuse_create_in, [...u32(0o1101), ...u32(0o644), ...u32(0o022), ...u32(0)], { flags: 0o1101, mode: 0o644, umask: 0o022, open_flags: 0 }));
  test("fuse_read_in", () =>
    golden(fuse_read_in, [...u64(3), ...u64(2 ** 33), ...u32(131072), ...u32(0), ...u64(0), ...u32(0o100000), ...u32(0)], {
      fh: 3, offset: 2 ** 33, size: 131072, read_flags: 0, lock_owner: 0, flags: 0o100000,
    }));
  test("fuse_write_in", () =>
    golden(fuse_write_in, [...u64(9), ...u64(100), ...u32(5), ...u32(1), ...u64(0), ...u32(2), ...u32(0)], {
      fh: 9, offset: 100, size: 5, write_flags: 1, lock_owner: 0, flags: 2,
    }));
  test("fuse_release_in", () =>
    golden(fuse_release_in, [...u64(9), ...u32(2), ...u32(1), ...u64(0xabcdef)], { fh: 9, flags: 2, release_flags: 1, lock_owner: 0xabcdef }));
  test("fuse_flush_in", () => golden(fuse_flush_in, [...u64(9), ...u32(0), ...u32(0), ...u64(77)], { fh: 9, lock_owner: 77 }));
  test("fuse_fsync_in", () => golden(fuse_fsync_in, [...u64(9), ...u32(1), ...u32(0)], { fh: 9, fsync_flags: 1 }));
  test("fuse_mkdir_in", () => golden(fuse_mkdir_in, [...u32(0o755), ...u32(0o022)], { mode: 0o755, umask: 0o022 }));
  test("fuse_mknod_in", () =>
    golden(fuse_mknod_in, [...u32(0o100600), ...u32(0), ...u32(0o022), ...u32(0)], { mode: 0o100600, rdev: 0, umask: 0o022 }));
  test("fuse_rename_in", () => golden(fuse_rename_in, [...u64(42)], { newdir: 42 }));
  test("fuse_rename2_in", () => golden(fuse_rename2_in, [...u64(42), ...u32(2), ...u32(0)], { newdir: 42, flags: 2 }));
  test("fuse_link_in", () => golden(fuse_link_in, [...u64(17)], { oldnodeid: 17 }));
  test("fuse_access_in", () => golden(fuse_access_in, [...u32(4), ...u32(0)], { mask: 4 }));
  test("fuse_forget_in", () => golden(fuse_forget_in, [...u64(3)], { nlookup: 3 }));
  test("fuse_batch_forget_in + fuse_forget_one", () => {
    golden(fuse_batch_forget_in, [...u32(2), ...u32(0)], { count: 2 });
    golden(fuse_forget_one, [...u64(5), ...u64(1)], { nodeid: 5, nlookup: 1 });
  });
  test("fuse_interrupt_in", () => golden(fuse_interrupt_in, [...u64(1234)], { unique: 1234 }));
  test("fuse_lseek_in", () => golden(fuse_lseek_in, [...u64(4), ...u64(8192), ...u32(3), ...u32(0)], { fh: 4, offset: 8192, whence: 3 }));
});

describe("golden reply fixtures", () => {
  test("fuse_out_header: success with a body, error without", () => {
    const view = new DataView(new ArrayBuffer(16));
    expect(encodeOutHeader(view, 99, 0, 8)).toBe(24);
    expect([...new Uint8Array(view.buffer)]).toEqual([...u32(24), ...u32(0), ...u64(99)]);
    expect(encodeOutHeader(view, 100, -2, 8)).toBe(16); // ENOENT: the body is dropped
    expect([...new Uint8Array(view.buffer)]).toEqual([...u32(16), ...u32(-2 >>> 0), ...u64(100)]);
  });

  test("fuse_init_out (64 bytes, minor 31)", () =>
    golden(
      fuse_init_out,
      [
        ...u32(7), ...u32(31), // major, minor
        ...u32(131072), ...u32(0x440021), // max_readahead, flags ASYNC_READ|BIG_WRITES|PARALLEL_DIROPS|MAX_PAGES
        ...u16(16), ...u16(12), // max_background, congestion_threshold
        ...u32(1 << 20), ...u32(1), // max_write, time_gran
        ...u16(256), ...u16(0), // max_pages, map_alignment
        ...u32(0), // flags2
        ...zeros(28), // unused[7]
      ],
      {
        major: 7, minor: 31, max_readahead: 131072, flags: 0x440021, max_background: 16, congestion_threshold: 12,
        max_write: 1 << 20, time_gran: 1, max_pages: 256, map_alignment: 0, flags2: 0,
      },
    ));

  const attrBytes = [
    ...u64(1234), ...u64(5), ...u64(8), // ino, size, blocks
    ...u64(10), ...u64(20), ...u64(30), // atime, mtime, ctime
    ...u32(1), ...u32(2), ...u32(3), // atimensec, mtimensec, ctimensec
    ...u32(0o100644), ...u32(1), // mode, nlink
    ...u32(0), ...u32(0), ...u32(0), // uid, gid, rdev
    ...u32(4096), ...u32(0), // blksize, flags
  ];
  const attrValue = {
    ino: 1234, size: 5, blocks: 8, atime: 10, mtime: 20, ctime: 30, atimensec: 1, mtimensec: 2, ctimensec: 3,
    mode: 0o100644, nlink: 1, uid: 0, gid: 0, rdev: 0, blksize: 4096, flags: 0,
  };
  test("fuse_attr", () => golden(fuse_attr, attrBytes, attrValue));
  test("fuse_entry_out (fuse_attr follows at 40)", () => {
    golden(fuse_entry_out, [...u64(2), ...u64(0), ...u64(1), ...u64(1), ...u32(500_000_000), ...u32(0)], {
      nodeid: 2, generation: 0, entry_valid: 1, attr_valid: 1, entry_valid_nsec: 500_000_000, attr_valid_nsec: 0,
    });
  });
  test("fuse_attr_out (fuse_attr follows at 16)", () =>
    golden(fuse_attr_out, [...u64(1), ...u32(0), ...u32(0)], { attr_valid: 1, attr_valid_nsec: 0 }));
  test("fuse_open_out", () => golden(fuse_open_out, [...u64(12), ...u32(1), ...u32(0)], { fh: 12, open_flags: 1 }));
  test("fuse_write_out", () => golden(fuse_write_out, [...u32(4096), ...u32(0)], { size: 4096 }));
  test("fuse_statfs_out / fuse_kstatfs", () =>
    golden(
      fuse_kstatfs,
      [...u64(1000), ...u64(500), ...u64(400), ...u64(100), ...u64(50), ...u32(4096), ...u32(255), ...u32(4096), ...u32(0), ...zeros(24)],
      { blocks: 1000, bfree: 500, bavail: 400, files: 100, ffree: 50, bsize: 4096, namelen: 255, frsize: 4096 },
    ));
  test("fuse_lseek_out", () => golden(fuse_lseek_out, [...u64(65536)], { offset: 65536 }));

  test("fuse_dirent records: 24-byte head, name without NUL, padded to 8", () => {
    golden(fuse_dirent, [...u64(77), ...u64(3), ...u32(5), ...u32(8)], { ino: 77, off: 3, namelen: 5, type: 8 });
    const bytes = new Uint8Array(64).fill(0xee);
    const view = new DataView(bytes.buffer);
    const size = encodeFuseDirent(bytes, view, 0, 64, { ino: 77, off: 3, type: 8, name: new Uint8Array(ascii("hello")) });
    expect(size).toBe(32);
    expect(fuseDirentSize(5)).toBe(32);
    expect([...bytes.subarray(0, 32)]).toEqual([...u64(77), ...u64(3), ...u32(5), ...u32(8), ...ascii("hello"), 0, 0, 0]);
    expect(encodeFuseDirent(bytes, view, 32, 63, { ino: 1, off: 4, type: 4, name: new Uint8Array(ascii("world")) })).toBe(0);
  });
});

describe("golden notification fixtures", () => {
  test("fuse_notify_inval_inode_out", () =>
    golden(fuse_notify_inval_inode_out, [...u64(2 ** 40 + 5), ...u64(0), ...u64(4096)], { ino: 2 ** 40 + 5, off: 0, len: 4096 }));
  test("fuse_notify_inval_entry_out", () =>
    golden(fuse_notify_inval_entry_out, [...u64(42), ...u32(3), ...u32(0)], { parent: 42, namelen: 3, flags: 0 }));

  test("INVAL_INODE: a header with unique 0 and the notify code 2 as its error, the node, the whole range", () => {
    expect([...encodeNotifyInvalInode(9)]).toEqual([
      ...u32(40), ...u32(2), ...u64(0), // fuse_out_header: len, error = FUSE_NOTIFY_INVAL_INODE, unique
      ...u64(9), ...u64(0), ...u64(0), // ino, off, len (0: to the end)
    ]);
  });

  test("INVAL_ENTRY: code 3, the parent, the name's bytes as they are (not UTF-8 here) and a NUL", () => {
    expect([...encodeNotifyInvalEntry(7, new Uint8Array([0x61, 0xff, 0x80]))]).toEqual([
      ...u32(36), ...u32(3), ...u64(0), // fuse_out_header: len, error = FUSE_NOTIFY_INVAL_ENTRY, unique
      ...u64(7), ...u32(3), ...u32(0), // parent, namelen, flags
      0x61, 0xff, 0x80, 0, // the name, then NUL
    ]);
  });
});

describe("opcode table", () => {
  test("numbers, names and minors as in enum fuse_opcode", () => {
    expect(FUSE_OP.LOOKUP).toBe(1);
    expect(FUSE_OP.INIT).toBe(26);
    expect(FUSE_OP.BATCH_FORGET).toBe(42);
    expect(FUSE_OP.RENAME2).toBe(45);
    expect(fuseOpcode(46)?.since).toBe(24);
    expect(fuseOpcodeName(9999)).toBe("opcode 9999");
    const numbers = FUSE_OPCODES.map((spec) => spec.opcode);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(FUSE_OPCODES.filter((spec) => !spec.reply).map((spec) => spec.name).sort()).toEqual(
      ["BATCH_FORGET", "FORGET", "INTERRUPT", "NOTIFY_REPLY"],
    );
  });
});
