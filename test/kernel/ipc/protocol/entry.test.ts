/** Tests for kernel/ipc/protocol/entry.ts: the queue entry layout, golden bytes of the descriptor and reply. */
import { describe, expect, test } from "bun:test";
import { ARG_COUNT, ENTRY, ENTRY_STATE, entryStateName, readReply, readRequest, writeReply, writeRequest } from "../../../../kernel/ipc/protocol/entry.ts";
import { OPCODE } from "../../../../kernel/ipc/protocol/operations.ts";

/** A pread of 4 KiB at offset 4 GiB + 1 from service fd 5, published (VALID), not yet answered. */
const PREAD_REQUEST = {
  requestId: 0x0001020304050607,
  opcode: OPCODE.pread,
  client: 7,
  buffer: 3,
  offset: 0x100,
  length: 0x2000,
  args: [5, 4096, 2 ** 32 + 1, -1],
};

// prettier-ignore
const PREAD_GOLDEN = [
  2, 0, 0, 0,                         // state u32 @0: VALID
  0, 0, 0, 0,                         // waiters u32 @4: producer not asleep
  19, 0, 0, 0,                        // opcode u32 @8: 19 = pread
  7, 0, 0, 0,                         // client u32 @12: 7
  7, 6, 5, 4, 3, 2, 1, 0,             // request_id u64 @16: 0x0001020304050607
  3, 0, 0, 0,                         // buffer u32 @24: request buffer 3
  0, 1, 0, 0,                         // offset u32 @28: window at 0x100
  0, 0x20, 0, 0,                      // length u32 @32: window of 0x2000 bytes
  0, 0, 0, 0,                         // reply_length u32 @36: nothing yet
  5, 0, 0, 0, 0, 0, 0, 0,             // args[0] i64 @40: fd 5
  0, 0x10, 0, 0, 0, 0, 0, 0,          // args[1] i64 @48: count 4096
  1, 0, 0, 0, 1, 0, 0, 0,             // args[2] i64 @56: offset 2^32 + 1
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // args[3] i64 @64: -1
  0, 0, 0, 0, 0, 0, 0, 0,             // args[4] i64 @72: unused
  0, 0, 0, 0, 0, 0, 0, 0,             // args[5] i64 @80: unused
  0, 0, 0, 0, 0, 0, 0, 0,             // result i64 @88: cleared at submit
];

// prettier-ignore
const ENOENT_REPLY_GOLDEN = [
  0x90, 0, 0, 0,                                  // reply_length u32 @36: 144 (one danaus_stat)
  0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // result i64 @88: -2 = -ENOENT
];

describe("entry layout", () => {
  test("96 bytes, fields where the golden fixture says", () => {
    expect(ENTRY.size).toBe(96);
    expect(ENTRY.offsets).toEqual({
      state: 0, waiters: 4, opcode: 8, client: 12, request_id: 16, buffer: 24, offset: 28, length: 32,
      reply_length: 36, args: 40, result: 88,
    });
    expect(ENTRY.fields.find((f) => f.name === "args")!.count).toBe(ARG_COUNT);
  });

  test("state names, and garbage has none", () => {
    expect(ENTRY_STATE).toEqual({ EMPTY: 0, WRITING: 1, VALID: 2, SERVING: 3, DONE: 4 });
    expect(entryStateName(3)).toBe("SERVING");
    expect(entryStateName(5)).toBeUndefined();
    expect(entryStateName(-1)).toBeUndefined();
  });
});

describe("request descriptor encoding", () => {
  test("matches the golden bytes", () => {
    const bytes = new Uint8Array(128).fill(0xcc);
    const view = new DataView(bytes.buffer);
    writeRequest(view, 0, PREAD_REQUEST);
    view.setUint32(ENTRY.offsets.state, ENTRY_STATE.VALID, true);
    view.setUint32(ENTRY.offsets.waiters, 0, true);
    expect([...bytes.subarray(0, ENTRY.size)]).toEqual(PREAD_GOLDEN);
    expect(bytes[ENTRY.size]).toBe(0xcc);
  });

  test("decodes the golden bytes", () => {
    const view = new DataView(new Uint8Array(PREAD_GOLDEN).buffer);
    expect(readRequest(view, 0)).toEqual({ ...PREAD_REQUEST, args: [5, 4096, 2 ** 32 + 1, -1, 0, 0] });
    expect(ENTRY.read(view, 0).state).toBe(ENTRY_STATE.VALID);
  });

  test("round-trips at an offset, through the generic struct codec too", () => {
    const view = new DataView(new ArrayBuffer(512));
    const request = { requestId: 2 ** 53 - 1, opcode: 0xffffffff, client: 0xffffffff, buffer: 65535, offset: 1, length: 2 ** 31, args: [-(2 ** 53 - 1), 1, 2, 3, 4, 5] };
    writeRequest(view, 256, request);
    expect(readRequest(view, 256)).toEqual(request);
    expect(ENTRY.read(view, 256)).toMatchObject({ request_id: request.requestId, args: request.args, length: 2 ** 31 });
  });
});

describe("reply encoding", () => {
  test("matches the golden bytes and round-trips", () => {
    const bytes = new Uint8Array(96);
    const view = new DataView(bytes.buffer);
    writeReply(view, 0, { result: -2, replyLength: 144 });
    expect([...bytes.subarray(36, 40), ...bytes.subarray(88, 96)]).toEqual(ENOENT_REPLY_GOLDEN);
    expect(readReply(view, 0)).toEqual({ result: -2, replyLength: 144 });
    writeReply(view, 0, { result: 2 ** 40, replyLength: 0 });
    expect(readReply(view, 0)).toEqual({ result: 2 ** 40, replyLength: 0 });
  });
});
