/**
 * @module opcodes — every FUSE opcode declared once, as data: number, kernel name, the protocol minor that
 * introduced it, its request body layout and whether the kernel waits for a reply. Dispatch and debug names are
 * derived from this table; an opcode not in it (or not implemented) is answered ENOSYS.
 */

/** What follows the 40-byte header, by the kernel struct name, plus the strings after it. */
export type FuseRequestBody =
  | "none"
  | "name"
  | "two-names"
  | "data"
  | `struct:${string}`
  | `struct+name:${string}`
  | `struct+two-names:${string}`
  | `struct+data:${string}`;

/** One opcode as declared. */
export interface FuseOpcodeSpec {
  /** `enum fuse_opcode` value. */
  readonly opcode: number;
  /** The kernel name without `FUSE_` (`LOOKUP`). */
  readonly name: string;
  /** Protocol minor (7.x) that added it; 0 for the original set. */
  readonly since: number;
  /** Request body after `fuse_in_header`. */
  readonly request: FuseRequestBody;
  /** False for FORGET and BATCH_FORGET: the kernel expects no reply (INTERRUPT is answered by answering its target). */
  readonly reply: boolean;
}

const op = (opcode: number, name: string, since: number, request: FuseRequestBody, reply = true): FuseOpcodeSpec =>
  ({ opcode, name, since, request, reply });

/** The FUSE opcode table (`enum fuse_opcode`, protocol 7.38 header, plus STATX of 7.39). */
export const FUSE_OPCODES: readonly FuseOpcodeSpec[] = [
  op(1, "LOOKUP", 0, "name"),
  op(2, "FORGET", 0, "struct:fuse_forget_in", false),
  op(3, "GETATTR", 0, "struct:fuse_getattr_in"),
  op(4, "SETATTR", 1, "struct:fuse_setattr_in"),
  op(5, "READLINK", 0, "none"),
  op(6, "SYMLINK", 1, "two-names"),
  op(8, "MKNOD", 1, "struct+name:fuse_mknod_in"),
  op(9, "MKDIR", 1, "struct+name:fuse_mkdir_in"),
  op(10, "UNLINK", 1, "name"),
  op(11, "RMDIR", 1, "name"),
  op(12, "RENAME", 1, "struct+two-names:fuse_rename_in"),
  op(13, "LINK", 1, "struct+name:fuse_link_in"),
  op(14, "OPEN", 1, "struct:fuse_open_in"),
  op(15, "READ", 1, "struct:fuse_read_in"),
  op(16, "WRITE", 1, "struct+data:fuse_write_in"),
  op(17, "STATFS", 0, "none"),
  op(18, "RELEASE", 1, "struct:fuse_release_in"),
  op(20, "FSYNC", 1, "struct:fuse_fsync_in"),
  op(21, "SETXATTR", 1, "struct+two-names:fuse_setxattr_in"),
  op(22, "GETXATTR", 1, "struct+name:fuse_getxattr_in"),
  op(23, "LISTXATTR", 1, "struct:fuse_getxattr_in"),
  op(24, "REMOVEXATTR", 1, "name"),
  op(25, "FLUSH", 1, "struct:fuse_flush_in"),
  op(26, "INIT", 0, "struct:fuse_init_in"),
  op(27, "OPENDIR", 1, "struct:fuse_open_in"),
  op(28, "READDIR", 1, "struct:fuse_read_in"),
  op(29, "RELEASEDIR", 1, "struct:fuse_release_in"),
  op(30, "FSYNCDIR", 2, "struct:fuse_fsync_in"),
  op(31, "GETLK", 7, "struct:fuse_lk_in"),
  op(32, "SETLK", 7, "struct:fuse_lk_in"),
  op(33, "SETLKW", 7, "struct:fuse_lk_in"),
  op(34, "ACCESS", 3, "struct:fuse_access_in"),
  op(35, "CREATE", 3, "struct+name:fuse_create_in"),
  op(36, "INTERRUPT", 7, "struct:fuse_interrupt_in", false),
  op(37, "BMAP", 8, "struct:fuse_bmap_in"),
  op(38, "DESTROY", 8, "none"),
  op(39, "IOCTL", 11, "struct+data:fuse_ioctl_in"),
  op(40, "POLL", 11, "struct:fuse_poll_in"),
  op(41, "NOTIFY_REPLY", 15, "data", false),
  op(42, "BATCH_FORGET", 16, "struct+data:fuse_batch_forget_in", false),
  op(43, "FALLOCATE", 19, "struct:fuse_fallocate_in"),
  op(44, "READDIRPLUS", 21, "struct:fuse_read_in"),
  op(45, "RENAME2", 23, "struct+two-names:fuse_rename2_in"),
  op(46, "LSEEK", 24, "struct:fuse_lseek_in"),
  op(47, "COPY_FILE_RANGE", 28, "struct:fuse_copy_file_range_in"),
  op(48, "SETUPMAPPING", 31, "struct:fuse_setupmapping_in"),
  op(49, "REMOVEMAPPING", 31, "struct+data:fuse_removemapping_in"),
  op(50, "SYNCFS", 34, "struct:fuse_syncfs_in"),
  op(51, "TMPFILE", 37, "struct+name:fuse_create_in"),
  op(52, "STATX", 39, "struct:fuse_statx_in"),
];

/** The opcode numbers by kernel name (`FUSE_OP.LOOKUP === 1`). */
export const FUSE_OP = Object.fromEntries(FUSE_OPCODES.map((spec) => [spec.name, spec.opcode])) as {
  readonly LOOKUP: 1; readonly FORGET: 2; readonly GETATTR: 3; readonly SETATTR: 4; readonly READLINK: 5;
  readonly SYMLINK: 6; readonly MKNOD: 8; readonly MKDIR: 9; readonly UNLINK: 10; readonly RMDIR: 11;
  readonly RENAME: 12; readonly LINK: 13; readonly OPEN: 14; readonly READ: 15; readonly WRITE: 16;
  readonly STATFS: 17; readonly RELEASE: 18; readonly FSYNC: 20; readonly FLUSH: 25; readonly INIT: 26;
  readonly OPENDIR: 27; readonly READDIR: 28; readonly RELEASEDIR: 29; readonly FSYNCDIR: 30; readonly ACCESS: 34;
  readonly CREATE: 35; readonly INTERRUPT: 36; readonly DESTROY: 38; readonly BATCH_FORGET: 42;
  readonly READDIRPLUS: 44; readonly RENAME2: 45; readonly LSEEK: 46;
};

const BY_NUMBER = new Map<number, FuseOpcodeSpec>(FUSE_OPCODES.map((spec) => [spec.opcode, spec]));

/** The table entry of an opcode, or undefined for a number the table does not know. */
export function fuseOpcode(opcode: number): FuseOpcodeSpec | undefined {
  return BY_NUMBER.get(opcode);
}

/** A debug name: `LOOKUP` for 1, `opcode 999` for an unknown number. */
export function fuseOpcodeName(opcode: number): string {
  return BY_NUMBER.get(opcode)?.name ?? `opcode ${opcode}`;
}
