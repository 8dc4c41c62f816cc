/** Tests for kernel/ipc/protocol/operations.ts: the one table of operations and what is derived from it. */
import { describe, expect, test } from "bun:test";
import { ERRNO } from "../../../../kernel/ipc/protocol/errno.ts";
import {
  checkOperations, lookupOperation, mutates, OP_FLAG, OPCODE, operationByName, operationByOpcode, OperationTableError, OPERATIONS,
  packArgs, unpackArgs, type OperationSpec,
} from "../../../../kernel/ipc/protocol/operations.ts";
import { ARG_COUNT } from "../../../../kernel/ipc/protocol/entry.ts";

const REQUIRED = [
  "open", "close", "read", "pread", "write", "pwrite", "lseek", "fstat", "stat", "lstat", "ftruncate", "truncate", "fsync",
  "fdatasync", "mkdir", "rmdir", "unlink", "rename", "readdir", "symlink", "readlink", "link", "chmod", "chown", "utimens",
  "access", "statfs", "null",
];

describe("operation table", () => {
  test("declares every operation of the issue", () => {
    for (const name of REQUIRED) expect<string | undefined>(operationByName(name)?.name).toBe(name);
  });

  test("opcodes and names are unique and opcode 0 is never valid", () => {
    expect(new Set(OPERATIONS.map((op) => op.opcode)).size).toBe(OPERATIONS.length);
    expect(new Set(OPERATIONS.map((op) => op.name)).size).toBe(OPERATIONS.length);
    expect(operationByOpcode(0)).toBeUndefined();
  });

  test("OPCODE is derived from the table", () => {
    expect(OPCODE.open).toBe(16);
    expect(OPCODE.null).toBe(1);
    for (const op of OPERATIONS) expect(OPCODE[op.name]).toBe(op.opcode);
  });

  test("the table passes its own start-up check", () => {
    expect(() => checkOperations()).not.toThrow();
  });

  test("payload directions: writes carry bytes in, reads bring bytes out, stat brings a stat out", () => {
    expect(operationByName("pwrite")).toMatchObject({ request: "bytes", reply: { result: "count", payload: "none" } });
    expect(operationByName("pread")).toMatchObject({ request: "none", reply: { result: "count", payload: "bytes" } });
    expect(operationByName("lstat")).toMatchObject({ request: "path", reply: { payload: "stat" } });
    expect(operationByName("rename")).toMatchObject({ request: "two-paths", args: ["mount", "flags"] });
    expect(operationByName("readdir")).toMatchObject({ reply: { payload: "dirents" } });
    expect(operationByName("statfs")).toMatchObject({ reply: { payload: "statfs" } });
  });
});

describe("lookups", () => {
  test("an unknown opcode resolves to ENOSYS", () => {
    expect(lookupOperation(0)).toBe(ERRNO.ENOSYS);
    expect(lookupOperation(15)).toBe(ERRNO.ENOSYS);
    expect(lookupOperation(0xffffffff)).toBe(ERRNO.ENOSYS);
    expect(lookupOperation(OPCODE.pread)).toBe(operationByName("pread"));
  });

  test("packArgs / unpackArgs follow the declared argument order", () => {
    expect(packArgs("pread", { fd: 3, count: 4096, offset: 2 ** 33 })).toEqual([3, 4096, 2 ** 33]);
    expect(packArgs("utimens", { mount: 1, atime_sec: 2, atime_nsec: 3, mtime_sec: 4, mtime_nsec: 5, flags: 6 })).toEqual([1, 2, 3, 4, 5, 6]);
    const op = operationByName("chown");
    expect(unpackArgs(op, [1, 1000, -1, 0x100, 99, 99])).toEqual({ mount: 1, uid: 1000, gid: -1, flags: 0x100 });
  });
});

describe("checkOperations catches declaration mistakes", () => {
  const base: OperationSpec = { opcode: 100, name: "x", args: ["fd"], request: "none", reply: { result: "status", payload: "none" }, flags: OP_FLAG.FD, since: 1, doc: "" };
  test.each([
    ["a duplicate opcode", [base, { ...base, name: "y" }], "used twice"],
    ["a duplicate name", [base, { ...base, opcode: 101 }], "name is used twice"],
    ["opcode 0", [{ ...base, opcode: 0 }], "not in 1..2^32-1"],
    ["too many arguments", [{ ...base, args: ["fd", "a", "b", "c", "d", "e", "f"] }], `at most ${ARG_COUNT}`],
    ["a path operation without the PATH flag", [{ ...base, args: ["mount"], flags: 0, request: "path" }], "PATH flag"],
    ["an fd operation without the FD flag", [{ ...base, flags: 0 }], "FD flag"],
    ["a control opcode without the CONTROL flag", [{ ...base, opcode: 3 }], "CONTROL flag"],
    ["a name that is no C identifier", [{ ...base, name: "Bad-Name" }], "lower_snake_case"],
  ] as const)("%s", (_what, table, message) => {
    expect(() => checkOperations(table as readonly OperationSpec[])).toThrow(OperationTableError);
    expect(() => checkOperations(table as readonly OperationSpec[])).toThrow(message);
  });
});

describe("mutates: which requests bump the tenant's mutation generation", () => {
  const CHANGING = ["write", "pwrite", "ftruncate", "truncate", "mkdir", "rmdir", "unlink", "rename", "symlink", "link", "chmod", "chown", "utimens", "mknod", "pwrite_ref", "write_ref", "copy_range"];

  test("every operation that changes a file or a name, whatever its arguments; none that only reads", () => {
    for (const op of OPERATIONS) {
      if (op.name === "open") continue;
      expect([op.name, mutates(op, [0, 0, 0, 0, 0, 0])]).toEqual([op.name, CHANGING.includes(op.name)]);
    }
  });

  test("open only with O_CREAT or O_TRUNC in its flags", () => {
    const open = operationByName("open");
    expect(mutates(open, [0, 0o0, 0])).toBe(false);
    expect(mutates(open, [0, 0o2 | 0o2000, 0])).toBe(false); // O_RDWR | O_APPEND
    expect(mutates(open, [0, 0o100, 0o644])).toBe(true); // O_CREAT
    expect(mutates(open, [0, 0o1 | 0o1000, 0])).toBe(true); // O_WRONLY | O_TRUNC
  });

  test("a table that says both MUTATES and mutatesWhen, or names an argument it lacks, is refused", () => {
    const base = operationByName("open");
    expect(() => checkOperations([{ ...base, flags: base.flags | OP_FLAG.MUTATES }])).toThrow("MUTATES and mutatesWhen");
    expect(() => checkOperations([{ ...base, mutatesWhen: { arg: "nope", anyOf: 1 } }])).toThrow("mutatesWhen names nope");
  });
});
