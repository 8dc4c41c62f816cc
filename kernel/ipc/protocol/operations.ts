/** @module operations — every operation of the typed channel declared once, as data: opcode, name, request and reply layout, flags. */
import { ARG_COUNT } from "./entry.ts";
import { ERRNO } from "./errno.ts";
import { O } from "./linux.ts";

/** Version of the wire protocol; bump on any change to the tables in this folder. */
export const PROTOCOL_VERSION = 8;

/** Operation flags (a bitmask, also emitted into the C header as `DANAUS_OPF_*`). */
export const OP_FLAG = {
  /** `args[0]` is a service file descriptor. */
  FD: 1,
  /** The request payload holds mount-relative path(s); `args[0]` is the mount id. */
  PATH: 2,
  /**
   * Changes the filesystem (a file's data or attributes, or a name): serving it bumps the tenant's mutation generation
   * (see {@link mutates}). An operation that changes it only with some arguments declares `mutatesWhen` instead.
   */
  MUTATES: 4,
  /** Answered by the ipc-router itself, not by a filesystem instance. */
  CONTROL: 8,
} as const;

/**
 * What the request window carries in:
 * - `none`: nothing (the window may be empty);
 * - `path`: one NUL-terminated path;
 * - `two-paths`: two NUL-terminated strings back to back (old/new, or target/link name);
 * - `bytes`: raw data, exactly the window length.
 */
export type RequestPayload = "none" | "path" | "two-paths" | "bytes";

/**
 * What the reply writes at the window start (its size is the entry's `reply_length`):
 * `none`; `bytes` (raw data); `stat` / `statfs` (those structs); `dirents` (packed `danaus_dirent` records);
 * `fifo-node`: nothing for a file the service serves, a `danaus_fifo_node` for a FIFO the client reopens itself.
 */
export type ReplyPayload = "none" | "bytes" | "stat" | "statfs" | "dirents" | "fifo-node";

/** What a non-negative result means: `status` (always 0), `fd`, `count` (bytes or entries), `offset`, `id`. */
export type ResultKind = "status" | "fd" | "count" | "offset" | "id";

/** One operation as declared. */
export interface OperationSpec {
  readonly opcode: number;
  /** Lower-case name, as in POSIX where there is one. */
  readonly name: string;
  /** Names of the small integer arguments, in `args[]` order. */
  readonly args: readonly string[];
  readonly request: RequestPayload;
  readonly reply: { readonly result: ResultKind; readonly payload: ReplyPayload };
  /** {@link OP_FLAG} bits. */
  readonly flags: number;
  /** Without MUTATES: the operation changes the filesystem when argument `arg` has any of the bits `anyOf`. */
  readonly mutatesWhen?: { readonly arg: string; readonly anyOf: number };
  /** Protocol version the operation appeared in. */
  readonly since: number;
  readonly doc: string;
}

const { FD, PATH, MUTATES, CONTROL } = OP_FLAG;

/** Opcodes below this are control operations answered by the ipc-router itself. */
export const FIRST_FILE_OPCODE = 16;
const none = { result: "status", payload: "none" } as const;

/**
 * The operation table. Opcode 0 is never valid (a zeroed entry is garbage); control operations use
 * 1–15, filesystem operations 16 and up. Path arguments are relative to the mount's root.
 */
export const OPERATIONS = [
  { opcode: 1, name: "null", args: [], request: "none", reply: none, flags: CONTROL, since: 1,
    doc: "do nothing and answer 0: the round-trip probe" },
  // Registration (client ids, request buffers, the mount table) goes through the router's registration socket,
  // whose connection also tells the router when a client process dies; see kernel/ipc/server/registration.ts.

  { opcode: 16, name: "open", args: ["mount", "flags", "mode"], request: "path", reply: { result: "fd", payload: "fifo-node" }, flags: PATH, since: 1,
    mutatesWhen: { arg: "flags", anyOf: O.CREAT | O.TRUNC },
    doc: "open(2) with Linux O_* flags; result is a service file descriptor; for a FIFO the reply holds a danaus_fifo_node to reopen (protocol 3)" },
  { opcode: 17, name: "close", args: ["fd"], request: "none", reply: none, flags: FD, since: 1,
    doc: "close a service file descriptor" },
  { opcode: 18, name: "read", args: ["fd", "count"], request: "none", reply: { result: "count", payload: "bytes" }, flags: FD, since: 1,
    doc: "read at the service-side file position (count <= window length)" },
  { opcode: 19, name: "pread", args: ["fd", "count", "offset"], request: "none", reply: { result: "count", payload: "bytes" }, flags: FD, since: 1,
    doc: "read at an explicit offset (count <= window length)" },
  { opcode: 20, name: "write", args: ["fd"], request: "bytes", reply: { result: "count", payload: "none" }, flags: FD | MUTATES, since: 1,
    doc: "write the window at the service-side position (O_APPEND honoured)" },
  { opcode: 21, name: "pwrite", args: ["fd", "offset"], request: "bytes", reply: { result: "count", payload: "none" }, flags: FD | MUTATES, since: 1,
    doc: "write the window at an explicit offset" },
  { opcode: 22, name: "lseek", args: ["fd", "offset", "whence"], request: "none", reply: { result: "offset", payload: "none" }, flags: FD, since: 1,
    doc: "move the service-side position (SEEK_SET 0, SEEK_CUR 1, SEEK_END 2)" },
  { opcode: 23, name: "fstat", args: ["fd"], request: "none", reply: { result: "status", payload: "stat" }, flags: FD, since: 1,
    doc: "stat an open file" },
  { opcode: 24, name: "stat", args: ["mount"], request: "path", reply: { result: "status", payload: "stat" }, flags: PATH, since: 1,
    doc: "stat a path, following a final symlink" },
  { opcode: 25, name: "lstat", args: ["mount"], request: "path", reply: { result: "status", payload: "stat" }, flags: PATH, since: 1,
    doc: "stat a path without following a final symlink" },
  { opcode: 26, name: "ftruncate", args: ["fd", "length"], request: "none", reply: none, flags: FD | MUTATES, since: 1,
    doc: "set an open file's size" },
  { opcode: 27, name: "truncate", args: ["mount", "length"], request: "path", reply: none, flags: PATH | MUTATES, since: 1,
    doc: "set a file's size by path" },
  { opcode: 28, name: "fsync", args: ["fd"], request: "none", reply: none, flags: FD, since: 1,
    doc: "flush data and metadata of an open file" },
  { opcode: 29, name: "fdatasync", args: ["fd"], request: "none", reply: none, flags: FD, since: 1,
    doc: "flush data of an open file" },
  { opcode: 30, name: "mkdir", args: ["mount", "mode"], request: "path", reply: none, flags: PATH | MUTATES, since: 1,
    doc: "create a directory" },
  { opcode: 31, name: "rmdir", args: ["mount"], request: "path", reply: none, flags: PATH | MUTATES, since: 1,
    doc: "remove an empty directory" },
  { opcode: 32, name: "unlink", args: ["mount"], request: "path", reply: none, flags: PATH | MUTATES, since: 1,
    doc: "remove a name" },
  { opcode: 33, name: "rename", args: ["mount", "flags"], request: "two-paths", reply: none, flags: PATH | MUTATES, since: 1,
    doc: "rename old to new (payload: old, new); flags: RENAME_NOREPLACE 1, RENAME_EXCHANGE 2" },
  { opcode: 34, name: "readdir", args: ["fd", "cookie"], request: "none", reply: { result: "count", payload: "dirents" }, flags: FD, since: 1,
    doc: "list an open directory from cookie (0 = start); result is the entry count, 0 at the end" },
  { opcode: 35, name: "symlink", args: ["mount"], request: "two-paths", reply: none, flags: PATH | MUTATES, since: 1,
    doc: "create a symlink (payload: target as stored, link path)" },
  { opcode: 36, name: "readlink", args: ["mount"], request: "path", reply: { result: "count", payload: "bytes" }, flags: PATH, since: 1,
    doc: "read a symlink's target (not NUL-terminated); result is its length" },
  { opcode: 37, name: "link", args: ["mount"], request: "two-paths", reply: none, flags: PATH | MUTATES, since: 1,
    doc: "create a hard link (payload: existing path, new path)" },
  { opcode: 38, name: "chmod", args: ["mount", "mode"], request: "path", reply: none, flags: PATH | MUTATES, since: 1,
    doc: "change permission bits" },
  { opcode: 39, name: "chown", args: ["mount", "uid", "gid", "flags"], request: "path", reply: none, flags: PATH | MUTATES, since: 1,
    doc: "change owner; uid/gid -1 keep; flags AT_SYMLINK_NOFOLLOW 0x100 = lchown" },
  { opcode: 40, name: "utimens", args: ["mount", "atime_sec", "atime_nsec", "mtime_sec", "mtime_nsec", "flags"], request: "path", reply: none, flags: PATH | MUTATES, since: 1,
    doc: "set access and modification times; nsec UTIME_NOW / UTIME_OMIT; flags AT_SYMLINK_NOFOLLOW" },
  { opcode: 41, name: "access", args: ["mount", "mode"], request: "path", reply: none, flags: PATH, since: 1,
    doc: "check access (F_OK 0, R_OK 4, W_OK 2, X_OK 1)" },
  { opcode: 42, name: "statfs", args: ["mount"], request: "path", reply: { result: "status", payload: "statfs" }, flags: PATH, since: 1,
    doc: "filesystem statistics" },
  { opcode: 43, name: "mknod", args: ["mount", "mode", "rdev"], request: "path", reply: none, flags: PATH | MUTATES, since: 2,
    doc: "create a FIFO (S_IFIFO), socket (S_IFSOCK), empty regular file (S_IFREG or type 0) or device (S_IFCHR, S_IFBLK: number rdev, protocol 4)" },
  { opcode: 44, name: "pread_ref", args: ["fd", "count", "offset", "front", "at"], request: "none", reply: { result: "count", payload: "none" }, flags: FD, since: 6,
    doc: "between services: read up to count bytes at offset straight into the tenant's application region (the one served by process `front`) at byte `at`, inside its request buffers" },
  { opcode: 45, name: "pwrite_ref", args: ["fd", "offset", "count", "front", "at"], request: "none", reply: { result: "count", payload: "none" }, flags: FD | MUTATES, since: 6,
    doc: "between services: write count bytes at offset taken straight from the tenant's application region (served by process `front`) at byte `at`" },
  { opcode: 46, name: "read_ref", args: ["fd", "count", "front", "at"], request: "none", reply: { result: "count", payload: "none" }, flags: FD, since: 6,
    doc: "between services: read(2) of up to count bytes straight into the tenant's application region (served by process `front`) at byte `at`" },
  { opcode: 47, name: "write_ref", args: ["fd", "count", "front", "at"], request: "none", reply: { result: "count", payload: "none" }, flags: FD | MUTATES, since: 6,
    doc: "between services: write(2) of count bytes taken straight from the tenant's application region (served by process `front`) at byte `at`" },
  { opcode: 48, name: "copy_range", args: ["fd", "offset", "in_fd", "in_offset", "count"], request: "none", reply: { result: "count", payload: "none" }, flags: FD | MUTATES, since: 7,
    doc: "between services: copy up to count bytes of open file in_fd from in_offset to open file fd at offset inside the service (both the requester's; the window is the service's scratch); result is the bytes copied, short at the end of in_fd" },
  { opcode: 49, name: "stage_paths", args: ["offset", "total"], request: "bytes", reply: { result: "count", payload: "none" }, flags: 0, since: 8,
    doc: "paths longer than a window carries: bytes [offset, offset + window) of the next request's paths (total bytes, NUL-terminated, back to back), sent in order from offset 0 on the same request buffer; that request's window then starts with a NUL (see kernel/ipc/server/path-stage.ts); result is the bytes staged" },
] as const satisfies readonly OperationSpec[];

/** A declared operation. */
export type Operation = (typeof OPERATIONS)[number];

/** The name of a declared operation. */
export type OperationName = Operation["name"];

/** The named arguments of operation `N`, as passed to {@link packArgs}. */
export type ArgsOf<N extends OperationName> = { readonly [K in Extract<Operation, { name: N }>["args"][number]]: number };

/** Where each named argument of operation `N` sits in `args[]`. */
export type ArgPositions<N extends OperationName> = { readonly [K in Extract<Operation, { name: N }>["args"][number]]: number };

/**
 * The position of every operation's arguments in `args[]`, by operation and argument name (`ARG.pread.offset === 2`),
 * derived from the table: what a server reads a request's arguments with, so no position is written twice.
 */
export const ARG = Object.fromEntries(OPERATIONS.map((op) => [op.name, Object.fromEntries(op.args.map((arg, i) => [arg, i]))])) as {
  readonly [N in OperationName]: ArgPositions<N>;
};

/** A declaration problem found by {@link checkOperations}. */
export class OperationTableError extends Error {
  override readonly name = "OperationTableError";
  constructor(readonly operation: string, readonly problem: string) {
    super(`operation ${operation}: ${problem}; fix kernel/ipc/protocol/operations.ts`);
  }
}

/** Opcode of each operation by name (`OPCODE.open === 16`). */
export const OPCODE = Object.fromEntries(OPERATIONS.map((op) => [op.name, op.opcode])) as {
  readonly [K in OperationName]: Extract<Operation, { name: K }>["opcode"];
};

const BY_OPCODE = new Map<number, Operation>(OPERATIONS.map((op) => [op.opcode, op]));
const BY_NAME = new Map<string, Operation>(OPERATIONS.map((op) => [op.name, op]));

/** The operation with `opcode`, or undefined for an unknown opcode. */
export function operationByOpcode(opcode: number): Operation | undefined {
  return BY_OPCODE.get(opcode);
}

/** The operation called `name` (typed exactly for a declared name), or undefined for an unknown name. */
export function operationByName<N extends OperationName>(name: N): Extract<Operation, { name: N }>;
export function operationByName(name: string): Operation | undefined;
export function operationByName(name: string): Operation | undefined {
  return BY_NAME.get(name);
}

/**
 * Resolve an opcode taken off the wire: the operation, or ENOSYS (a positive errno number) when the
 * opcode is unknown. The dispatcher answers `-ENOSYS` for the latter.
 */
export function lookupOperation(opcode: number): Operation | typeof ERRNO.ENOSYS {
  return BY_OPCODE.get(opcode) ?? ERRNO.ENOSYS;
}

/** Pack named arguments into the `args[]` order of operation `name` (unnamed slots are 0). */
export function packArgs<N extends OperationName>(name: N, values: ArgsOf<N>): number[] {
  const op = BY_NAME.get(name)!;
  const record = values as Record<string, number>;
  return op.args.map((arg) => record[arg] ?? 0);
}

/** Name the `args[]` of a request for operation `op` (extra slots are ignored). */
export function unpackArgs<O extends Operation>(op: O, args: readonly number[]): ArgsOf<O["name"]> {
  const out: Record<string, number> = {};
  op.args.forEach((arg, i) => { out[arg] = args[i] ?? 0; });
  return out as ArgsOf<O["name"]>;
}

const MUTATES_WHEN = new Map<number, { readonly index: number; readonly anyOf: number }>();

/**
 * Whether serving a request of operation `op` with arguments `args` (in `args[]` order) may change a file or a name:
 * every MUTATES operation, and one whose `mutatesWhen` argument has one of its bits (open with O_CREAT or O_TRUNC).
 */
export function mutates(op: Operation, args: readonly number[]): boolean {
  if ((op.flags & MUTATES) !== 0) return true;
  const when = MUTATES_WHEN.get(op.opcode);
  return when !== undefined && ((args[when.index] ?? 0) & when.anyOf) !== 0;
}

/**
 * Check the table for declaration mistakes: duplicate opcodes or names, opcode 0 or out of u32 range,
 * too many arguments, flags that contradict the layouts. Runs at module load; throws {@link OperationTableError}.
 */
export function checkOperations(table: readonly OperationSpec[] = OPERATIONS): void {
  const opcodes = new Set<number>();
  const names = new Set<string>();
  const allFlags = Object.values(OP_FLAG).reduce((a, b) => a | b, 0);
  for (const op of table) {
    if (!Number.isInteger(op.opcode) || op.opcode <= 0 || op.opcode > 0xffffffff) throw new OperationTableError(op.name, `opcode ${op.opcode} is not in 1..2^32-1`);
    if (opcodes.has(op.opcode)) throw new OperationTableError(op.name, `opcode ${op.opcode} is used twice`);
    if (names.has(op.name)) throw new OperationTableError(op.name, "name is used twice");
    if (!/^[a-z][a-z0-9_]*$/.test(op.name)) throw new OperationTableError(op.name, "name must be lower_snake_case (it becomes a C identifier)");
    if (op.args.length > ARG_COUNT) throw new OperationTableError(op.name, `${op.args.length} arguments, at most ${ARG_COUNT} fit an entry`);
    if (new Set(op.args).size !== op.args.length) throw new OperationTableError(op.name, "an argument name is repeated");
    if ((op.flags & ~allFlags) !== 0) throw new OperationTableError(op.name, `unknown flag bits ${op.flags & ~allFlags}`);
    const isPath = op.request === "path" || op.request === "two-paths";
    if (((op.flags & PATH) !== 0) !== isPath) throw new OperationTableError(op.name, "PATH flag must be set exactly when the request carries paths");
    if (isPath && op.args[0] !== "mount") throw new OperationTableError(op.name, "a path operation takes the mount id as args[0]");
    if (((op.flags & FD) !== 0) !== (op.args[0] === "fd")) throw new OperationTableError(op.name, "FD flag must be set exactly when args[0] is fd");
    if (((op.flags & CONTROL) !== 0) !== (op.opcode < FIRST_FILE_OPCODE)) throw new OperationTableError(op.name, `CONTROL flag must be set exactly when the opcode is below ${FIRST_FILE_OPCODE}`);
    if (op.mutatesWhen !== undefined) {
      if ((op.flags & MUTATES) !== 0) throw new OperationTableError(op.name, "MUTATES and mutatesWhen together: MUTATES already says always");
      if (!op.args.includes(op.mutatesWhen.arg)) throw new OperationTableError(op.name, `mutatesWhen names ${op.mutatesWhen.arg}, not one of its arguments`);
    }
    opcodes.add(op.opcode);
    names.add(op.name);
  }
}

checkOperations();
for (const op of OPERATIONS as readonly OperationSpec[]) {
  if (op.mutatesWhen !== undefined) MUTATES_WHEN.set(op.opcode, { index: op.args.indexOf(op.mutatesWhen.arg), anyOf: op.mutatesWhen.anyOf });
}
