/**
 * @module structs — the FUSE kernel ABI's fixed-size structs as data, under the names and offsets of
 * `<linux/fuse.h>` (protocol 7.38 header; x86-64, little-endian). Byte sizes and DataView codecs are derived by
 * {@link defineStruct}; `__`-prefixed fields are padding (written as zero, not decoded).
 */
import { defineStruct } from "../../../kernel/ipc/protocol/index.ts";

/** Every request starts with this header (40 bytes). `len` covers the header and the body. */
export const fuse_in_header = defineStruct("fuse_in_header", "header of every request read from /dev/fuse", [
  { name: "len", type: "u32", offset: 0 },
  { name: "opcode", type: "u32", offset: 4 },
  { name: "unique", type: "u64", offset: 8 },
  { name: "nodeid", type: "u64", offset: 16 },
  { name: "uid", type: "u32", offset: 24 },
  { name: "gid", type: "u32", offset: 28 },
  { name: "pid", type: "u32", offset: 32 },
  { name: "total_extlen", type: "u16", offset: 36, doc: "length of extensions in 8-byte units" },
  { name: "__padding", type: "u16", offset: 38 },
]);

/** Every reply starts with this header (16 bytes); `error` is 0 or -errno. */
export const fuse_out_header = defineStruct("fuse_out_header", "header of every reply written to /dev/fuse", [
  { name: "len", type: "u32", offset: 0 },
  { name: "error", type: "i32", offset: 4 },
  { name: "unique", type: "u64", offset: 8 },
]);

/** FUSE_INIT request body (64 bytes since 7.36; older kernels send the first 16). */
export const fuse_init_in = defineStruct("fuse_init_in", "INIT request", [
  { name: "major", type: "u32", offset: 0 },
  { name: "minor", type: "u32", offset: 4 },
  { name: "max_readahead", type: "u32", offset: 8 },
  { name: "flags", type: "u32", offset: 12 },
  { name: "flags2", type: "u32", offset: 16, doc: "bits 32..63 of the flags (FUSE_INIT_EXT)" },
  { name: "__unused", type: "u32", offset: 20, count: 11 },
]);

/** FUSE_INIT reply body (64 bytes). */
export const fuse_init_out = defineStruct("fuse_init_out", "INIT reply", [
  { name: "major", type: "u32", offset: 0 },
  { name: "minor", type: "u32", offset: 4 },
  { name: "max_readahead", type: "u32", offset: 8 },
  { name: "flags", type: "u32", offset: 12 },
  { name: "max_background", type: "u16", offset: 16 },
  { name: "congestion_threshold", type: "u16", offset: 18 },
  { name: "max_write", type: "u32", offset: 20 },
  { name: "time_gran", type: "u32", offset: 24 },
  { name: "max_pages", type: "u16", offset: 28 },
  { name: "map_alignment", type: "u16", offset: 30 },
  { name: "flags2", type: "u32", offset: 32 },
  { name: "__unused", type: "u32", offset: 36, count: 7 },
]);

/** File attributes as the kernel caches them (88 bytes). */
export const fuse_attr = defineStruct("fuse_attr", "attributes of one node", [
  { name: "ino", type: "u64", offset: 0 },
  { name: "size", type: "u64", offset: 8 },
  { name: "blocks", type: "u64", offset: 16 },
  { name: "atime", type: "u64", offset: 24 },
  { name: "mtime", type: "u64", offset: 32 },
  { name: "ctime", type: "u64", offset: 40 },
  { name: "atimensec", type: "u32", offset: 48 },
  { name: "mtimensec", type: "u32", offset: 52 },
  { name: "ctimensec", type: "u32", offset: 56 },
  { name: "mode", type: "u32", offset: 60 },
  { name: "nlink", type: "u32", offset: 64 },
  { name: "uid", type: "u32", offset: 68 },
  { name: "gid", type: "u32", offset: 72 },
  { name: "rdev", type: "u32", offset: 76 },
  { name: "blksize", type: "u32", offset: 80 },
  { name: "flags", type: "u32", offset: 84 },
]);

/** Reply of LOOKUP, MKDIR, MKNOD, SYMLINK, LINK and the first half of CREATE (128 bytes; attr at 40). */
export const fuse_entry_out = defineStruct("fuse_entry_out", "a new or looked-up node", [
  { name: "nodeid", type: "u64", offset: 0 },
  { name: "generation", type: "u64", offset: 8, doc: "nodeid:generation is unique for the filesystem's lifetime" },
  { name: "entry_valid", type: "u64", offset: 16 },
  { name: "attr_valid", type: "u64", offset: 24 },
  { name: "entry_valid_nsec", type: "u32", offset: 32 },
  { name: "attr_valid_nsec", type: "u32", offset: 36 },
]);
/** Offset of the embedded `fuse_attr` in `fuse_entry_out`. */
export const FUSE_ENTRY_OUT_ATTR = 40;
/** sizeof(struct fuse_entry_out). */
export const FUSE_ENTRY_OUT_SIZE = FUSE_ENTRY_OUT_ATTR + 88;

/** Reply of GETATTR and SETATTR (104 bytes; attr at 16). */
export const fuse_attr_out = defineStruct("fuse_attr_out", "attributes with their cache timeout", [
  { name: "attr_valid", type: "u64", offset: 0 },
  { name: "attr_valid_nsec", type: "u32", offset: 8 },
  { name: "__dummy", type: "u32", offset: 12 },
]);
/** Offset of the embedded `fuse_attr` in `fuse_attr_out`. */
export const FUSE_ATTR_OUT_ATTR = 16;
/** sizeof(struct fuse_attr_out). */
export const FUSE_ATTR_OUT_SIZE = FUSE_ATTR_OUT_ATTR + 88;

/** GETATTR request. */
export const fuse_getattr_in = defineStruct("fuse_getattr_in", "GETATTR request", [
  { name: "getattr_flags", type: "u32", offset: 0, doc: "FUSE_GETATTR_FH: fh is valid" },
  { name: "__dummy", type: "u32", offset: 4 },
  { name: "fh", type: "u64", offset: 8 },
]);

/** SETATTR request (88 bytes); `valid` says which fields are set (FATTR_*). */
export const fuse_setattr_in = defineStruct("fuse_setattr_in", "SETATTR request", [
  { name: "valid", type: "u32", offset: 0 },
  { name: "__padding", type: "u32", offset: 4 },
  { name: "fh", type: "u64", offset: 8 },
  { name: "size", type: "u64", offset: 16 },
  { name: "lock_owner", type: "u64", offset: 24 },
  { name: "atime", type: "u64", offset: 32 },
  { name: "mtime", type: "u64", offset: 40 },
  { name: "ctime", type: "u64", offset: 48 },
  { name: "atimensec", type: "u32", offset: 56 },
  { name: "mtimensec", type: "u32", offset: 60 },
  { name: "ctimensec", type: "u32", offset: 64 },
  { name: "mode", type: "u32", offset: 68 },
  { name: "__unused4", type: "u32", offset: 72 },
  { name: "uid", type: "u32", offset: 76 },
  { name: "gid", type: "u32", offset: 80 },
  { name: "__unused5", type: "u32", offset: 84 },
]);

/** OPEN and OPENDIR request. */
export const fuse_open_in = defineStruct("fuse_open_in", "OPEN/OPENDIR request", [
  { name: "flags", type: "u32", offset: 0, doc: "open(2) flags without O_CREAT, O_EXCL, O_NOCTTY" },
  { name: "open_flags", type: "u32", offset: 4, doc: "FUSE_OPEN_*" },
]);

/** OPEN, OPENDIR and the second half of CREATE reply. */
export const fuse_open_out = defineStruct("fuse_open_out", "OPEN/OPENDIR/CREATE reply", [
  { name: "fh", type: "u64", offset: 0 },
  { name: "open_flags", type: "u32", offset: 8, doc: "FOPEN_*" },
  { name: "__padding", type: "u32", offset: 12 },
]);

/** CREATE request; the name follows. */
export const fuse_create_in = defineStruct("fuse_create_in", "CREATE request", [
  { name: "flags", type: "u32", offset: 0 },
  { name: "mode", type: "u32", offset: 4 },
  { name: "umask", type: "u32", offset: 8 },
  { name: "open_flags", type: "u32", offset: 12 },
]);

/** READ, READDIR and READDIRPLUS request. */
export const fuse_read_in = defineStruct("fuse_read_in", "READ/READDIR request", [
  { name: "fh", type: "u64", offset: 0 },
  { name: "offset", type: "u64", offset: 8 },
  { name: "size", type: "u32", offset: 16 },
  { name: "read_flags", type: "u32", offset: 20 },
  { name: "lock_owner", type: "u64", offset: 24 },
  { name: "flags", type: "u32", offset: 32 },
  { name: "__padding", type: "u32", offset: 36 },
]);

/** WRITE request; `size` bytes of data follow. */
export const fuse_write_in = defineStruct("fuse_write_in", "WRITE request", [
  { name: "fh", type: "u64", offset: 0 },
  { name: "offset", type: "u64", offset: 8 },
  { name: "size", type: "u32", offset: 16 },
  { name: "write_flags", type: "u32", offset: 20 },
  { name: "lock_owner", type: "u64", offset: 24 },
  { name: "flags", type: "u32", offset: 32 },
  { name: "__padding", type: "u32", offset: 36 },
]);

/** WRITE reply. */
export const fuse_write_out = defineStruct("fuse_write_out", "WRITE reply", [
  { name: "size", type: "u32", offset: 0 },
  { name: "__padding", type: "u32", offset: 4 },
]);

/** RELEASE and RELEASEDIR request. */
export const fuse_release_in = defineStruct("fuse_release_in", "RELEASE/RELEASEDIR request", [
  { name: "fh", type: "u64", offset: 0 },
  { name: "flags", type: "u32", offset: 8 },
  { name: "release_flags", type: "u32", offset: 12 },
  { name: "lock_owner", type: "u64", offset: 16 },
]);

/** FLUSH request. */
export const fuse_flush_in = defineStruct("fuse_flush_in", "FLUSH request", [
  { name: "fh", type: "u64", offset: 0 },
  { name: "__unused", type: "u32", offset: 8 },
  { name: "__padding", type: "u32", offset: 12 },
  { name: "lock_owner", type: "u64", offset: 16 },
]);

/** FSYNC and FSYNCDIR request. */
export const fuse_fsync_in = defineStruct("fuse_fsync_in", "FSYNC/FSYNCDIR request", [
  { name: "fh", type: "u64", offset: 0 },
  { name: "fsync_flags", type: "u32", offset: 8, doc: "FUSE_FSYNC_FDATASYNC" },
  { name: "__padding", type: "u32", offset: 12 },
]);

/** MKDIR request; the name follows. */
export const fuse_mkdir_in = defineStruct("fuse_mkdir_in", "MKDIR request", [
  { name: "mode", type: "u32", offset: 0 },
  { name: "umask", type: "u32", offset: 4 },
]);

/** MKNOD request; the name follows. */
export const fuse_mknod_in = defineStruct("fuse_mknod_in", "MKNOD request", [
  { name: "mode", type: "u32", offset: 0 },
  { name: "rdev", type: "u32", offset: 4 },
  { name: "umask", type: "u32", offset: 8 },
  { name: "__padding", type: "u32", offset: 12 },
]);

/** RENAME request; old name and new name follow, each NUL-terminated. */
export const fuse_rename_in = defineStruct("fuse_rename_in", "RENAME request", [
  { name: "newdir", type: "u64", offset: 0 },
]);

/** RENAME2 request (7.23); old name and new name follow. */
export const fuse_rename2_in = defineStruct("fuse_rename2_in", "RENAME2 request", [
  { name: "newdir", type: "u64", offset: 0 },
  { name: "flags", type: "u32", offset: 8, doc: "RENAME_NOREPLACE 1, RENAME_EXCHANGE 2" },
  { name: "__padding", type: "u32", offset: 12 },
]);

/** LINK request; the new name follows. */
export const fuse_link_in = defineStruct("fuse_link_in", "LINK request", [
  { name: "oldnodeid", type: "u64", offset: 0 },
]);

/** ACCESS request. */
export const fuse_access_in = defineStruct("fuse_access_in", "ACCESS request", [
  { name: "mask", type: "u32", offset: 0 },
  { name: "__padding", type: "u32", offset: 4 },
]);

/** STATFS reply (`struct fuse_statfs_out { struct fuse_kstatfs st; }`, 80 bytes). */
export const fuse_kstatfs = defineStruct("fuse_kstatfs", "STATFS reply", [
  { name: "blocks", type: "u64", offset: 0 },
  { name: "bfree", type: "u64", offset: 8 },
  { name: "bavail", type: "u64", offset: 16 },
  { name: "files", type: "u64", offset: 24 },
  { name: "ffree", type: "u64", offset: 32 },
  { name: "bsize", type: "u32", offset: 40 },
  { name: "namelen", type: "u32", offset: 44 },
  { name: "frsize", type: "u32", offset: 48 },
  { name: "__padding", type: "u32", offset: 52 },
  { name: "__spare", type: "u32", offset: 56, count: 6 },
]);
/** `struct fuse_statfs_out` is exactly one `fuse_kstatfs`. */
export const fuse_statfs_out = fuse_kstatfs;

/** FORGET request (no reply). */
export const fuse_forget_in = defineStruct("fuse_forget_in", "FORGET request", [
  { name: "nlookup", type: "u64", offset: 0 },
]);

/** BATCH_FORGET request header; `count` {@link fuse_forget_one} follow (no reply). */
export const fuse_batch_forget_in = defineStruct("fuse_batch_forget_in", "BATCH_FORGET request", [
  { name: "count", type: "u32", offset: 0 },
  { name: "__dummy", type: "u32", offset: 4 },
]);

/** One node of a BATCH_FORGET. */
export const fuse_forget_one = defineStruct("fuse_forget_one", "one node to forget", [
  { name: "nodeid", type: "u64", offset: 0 },
  { name: "nlookup", type: "u64", offset: 8 },
]);

/** INTERRUPT request: the `unique` of the request to interrupt. */
export const fuse_interrupt_in = defineStruct("fuse_interrupt_in", "INTERRUPT request", [
  { name: "unique", type: "u64", offset: 0 },
]);

/** Fixed part of one READDIR record; the name (`namelen` bytes, no NUL) follows, record padded to 8. */
export const fuse_dirent = defineStruct("fuse_dirent", "one READDIR record", [
  { name: "ino", type: "u64", offset: 0 },
  { name: "off", type: "u64", offset: 8, doc: "offset to pass to continue after this entry" },
  { name: "namelen", type: "u32", offset: 16 },
  { name: "type", type: "u32", offset: 20, doc: "DT_* value" },
], { flexible: { name: "name", type: "u8" } });

/** `struct fuse_direntplus { fuse_entry_out entry_out; fuse_dirent dirent; }`: the dirent starts at 128. */
export const FUSE_DIRENTPLUS_DIRENT = FUSE_ENTRY_OUT_SIZE;

/** LSEEK request (7.24). */
export const fuse_lseek_in = defineStruct("fuse_lseek_in", "LSEEK request", [
  { name: "fh", type: "u64", offset: 0 },
  { name: "offset", type: "u64", offset: 8 },
  { name: "whence", type: "u32", offset: 16 },
  { name: "__padding", type: "u32", offset: 20 },
]);

/** LSEEK reply. */
export const fuse_lseek_out = defineStruct("fuse_lseek_out", "LSEEK reply", [
  { name: "offset", type: "u64", offset: 0 },
]);

/** GETXATTR/LISTXATTR request (declared for completeness; the server answers them ENOSYS). */
export const fuse_getxattr_in = defineStruct("fuse_getxattr_in", "GETXATTR/LISTXATTR request", [
  { name: "size", type: "u32", offset: 0 },
  { name: "__padding", type: "u32", offset: 4 },
]);

/**
 * FUSE_NOTIFY_INVAL_INODE body, written unasked to /dev/fuse after a `fuse_out_header` with unique 0 and error
 * {@link FUSE_NOTIFY_INVAL_INODE}: the kernel drops the node's cached attributes and, from `off` (≥ 0) for `len` bytes
 * (0: to the end), its cached pages, those of shared mappings included.
 */
export const fuse_notify_inval_inode_out = defineStruct("fuse_notify_inval_inode_out", "INVAL_INODE notification", [
  { name: "ino", type: "u64", offset: 0 },
  { name: "off", type: "u64", offset: 8 },
  { name: "len", type: "u64", offset: 16 },
]);

/**
 * FUSE_NOTIFY_INVAL_ENTRY body, written unasked after a `fuse_out_header` with unique 0 and error
 * {@link FUSE_NOTIFY_INVAL_ENTRY}, followed by the name's `namelen` bytes and a NUL: the kernel drops its cached entry
 * (positive or negative) for that name in directory node `parent`. `flags` (7.38; padding before) is 0.
 */
export const fuse_notify_inval_entry_out = defineStruct("fuse_notify_inval_entry_out", "INVAL_ENTRY notification", [
  { name: "parent", type: "u64", offset: 0 },
  { name: "namelen", type: "u32", offset: 8 },
  { name: "flags", type: "u32", offset: 12 },
]);

/** The expected sizeof of every struct, as in `<linux/fuse.h>`; checked at load time (go-fuse checkFixedBufferSize). */
export const EXPECTED_SIZES: Readonly<Record<string, number>> = {
  fuse_in_header: 40, fuse_out_header: 16, fuse_init_in: 64, fuse_init_out: 64, fuse_attr: 88, fuse_getattr_in: 16,
  fuse_setattr_in: 88, fuse_open_in: 8, fuse_open_out: 16, fuse_create_in: 16, fuse_read_in: 40, fuse_write_in: 40,
  fuse_write_out: 8, fuse_release_in: 24, fuse_flush_in: 24, fuse_fsync_in: 16, fuse_mkdir_in: 8, fuse_mknod_in: 16,
  fuse_rename_in: 8, fuse_rename2_in: 16, fuse_link_in: 8, fuse_access_in: 8, fuse_kstatfs: 80, fuse_forget_in: 8,
  fuse_batch_forget_in: 8, fuse_forget_one: 16, fuse_interrupt_in: 8, fuse_dirent: 24, fuse_lseek_in: 24,
  fuse_lseek_out: 8, fuse_getxattr_in: 8, fuse_notify_inval_inode_out: 24, fuse_notify_inval_entry_out: 16,
};

const ALL = [
  fuse_in_header, fuse_out_header, fuse_init_in, fuse_init_out, fuse_attr, fuse_getattr_in, fuse_setattr_in,
  fuse_open_in, fuse_open_out, fuse_create_in, fuse_read_in, fuse_write_in, fuse_write_out, fuse_release_in,
  fuse_flush_in, fuse_fsync_in, fuse_mkdir_in, fuse_mknod_in, fuse_rename_in, fuse_rename2_in, fuse_link_in,
  fuse_access_in, fuse_kstatfs, fuse_forget_in, fuse_batch_forget_in, fuse_forget_one, fuse_interrupt_in, fuse_dirent,
  fuse_lseek_in, fuse_lseek_out, fuse_getxattr_in, fuse_notify_inval_inode_out, fuse_notify_inval_entry_out,
];
for (const layout of ALL) {
  if (layout.size !== EXPECTED_SIZES[layout.name]) {
    throw new Error(`${layout.name} is ${layout.size} bytes, <linux/fuse.h> says ${EXPECTED_SIZES[layout.name]}: fix structs.ts`);
  }
}
if (fuse_entry_out.size !== FUSE_ENTRY_OUT_ATTR || fuse_attr_out.size !== FUSE_ATTR_OUT_ATTR) {
  throw new Error("fuse_entry_out / fuse_attr_out prefix does not end where fuse_attr starts: fix structs.ts");
}
