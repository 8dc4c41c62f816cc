/** Tests for kernel/ipc/ring/queue.ts in one process: the entry lifecycle, back-pressure, misuse errors, reclaim. */
import { afterEach, describe, expect, test } from "bun:test";
import { ENTRY, ENTRY_STATE, type RequestDescriptor } from "../../../../kernel/ipc/protocol/entry.ts";
import { ERRNO } from "../../../../kernel/ipc/protocol/errno.ts";
import { OPCODE } from "../../../../kernel/ipc/protocol/operations.ts";
import { RegionClosedError, RequestRangeError, SlotStateError, WaitTimeoutError } from "../../../../kernel/ipc/ring/errors.ts";
import { RequestQueue } from "../../../../kernel/ipc/ring/queue.ts";
import { Region } from "../../../../kernel/ipc/ring/region.ts";
import { cleanUp, regionPath } from "./fixtures/scratch.ts";

const PARAMS = { queueCount: 2, queueCapacity: 3, bufferCount: 4, bufferSize: 8192 };
const REQUEST: RequestDescriptor = { requestId: 9, opcode: OPCODE.null, client: 1, buffer: 2, offset: 16, length: 64, args: [] };

afterEach(cleanUp);

function fresh(capacity = PARAMS.queueCapacity): { region: Region; queue: RequestQueue } {
  const region = Region.create(regionPath(), { ...PARAMS, queueCapacity: capacity });
  return { region, queue: new RequestQueue(region, 0, { maxSpin: 0 }) };
}

describe("one round trip", () => {
  test("carries every descriptor field to the consumer and the reply back, through the states", () => {
    const { region, queue } = fresh();
    const request = { requestId: 2 ** 40 + 3, opcode: OPCODE.pwrite, client: 77, buffer: 3, offset: 100, length: 5, args: [4, 2 ** 33, -7] };
    region.buffer(3).set([1, 2, 3, 4, 5], 100);
    const slot = queue.submit(request);
    expect(queue.stateOf(slot)).toBe(ENTRY_STATE.VALID);
    expect(queue.pending()).toBe(1);
    const taken = queue.take({ timeoutMs: 1000 })!;
    expect(taken).toEqual({ slot, status: 0, request: { ...request, args: [4, 2 ** 33, -7, 0, 0, 0] } });
    expect(queue.stateOf(slot)).toBe(ENTRY_STATE.SERVING);
    expect(queue.pending()).toBe(0);
    region.buffer(3).set([9, 9], 100);
    expect(queue.complete(slot, 5, 2)).toBe(true);
    expect(queue.stateOf(slot)).toBe(ENTRY_STATE.DONE);
    expect(queue.waitReply(slot)).toEqual({ result: 5, replyLength: 2, requestId: request.requestId });
    expect(queue.stateOf(slot)).toBe(ENTRY_STATE.EMPTY);
    expect([...region.buffer(3).subarray(100, 103)]).toEqual([9, 9, 3]);
  });

  test("an errno reply comes back negative", () => {
    const { queue } = fresh();
    const slot = queue.submit(REQUEST);
    queue.complete(queue.take()!.slot, -ERRNO.ENOENT);
    expect(queue.waitReply(slot).result).toBe(-ERRNO.ENOENT);
  });

  test("a reply longer than the window becomes -EIO", () => {
    const { queue } = fresh();
    const slot = queue.submit(REQUEST);
    queue.complete(queue.take()!.slot, 100, 65);
    expect(queue.waitReply(slot)).toEqual({ result: -ERRNO.EIO, replyLength: 0, requestId: REQUEST.requestId });
  });

  test("queues are independent", () => {
    const { region, queue } = fresh();
    const other = new RequestQueue(region, 1, { maxSpin: 0 });
    queue.submit(REQUEST);
    expect(other.tryTake()).toBeNull();
    expect(queue.tryTake()).not.toBeNull();
  });

  test("take() gives up at its timeout on an empty queue", () => {
    const { queue } = fresh();
    expect(queue.take({ timeoutMs: 1 })).toBeNull();
  });
});

describe("full queue", () => {
  test("trySubmit answers -1 when every entry is in use, and a freed entry is reused", () => {
    const { queue } = fresh(2);
    const a = queue.trySubmit(REQUEST);
    const b = queue.trySubmit({ ...REQUEST, requestId: 10 });
    expect(new Set([a, b]).size).toBe(2);
    expect(queue.trySubmit(REQUEST)).toBe(-1);
    const taken = queue.tryTake()!;
    queue.complete(taken.slot, 0);
    expect(queue.trySubmit(REQUEST)).toBe(-1); // done but not collected: still the producer's
    queue.waitReply(taken.slot);
    expect(queue.trySubmit(REQUEST)).toBe(taken.slot);
  });

  test("submit waits while full and gives up with WaitTimeoutError at its timeout", () => {
    const { queue } = fresh(1);
    queue.submit(REQUEST);
    expect(() => queue.submit(REQUEST, { timeoutMs: 5 })).toThrow(WaitTimeoutError);
    expect(queue.stats.fullWaits).toBe(1);
  });

  test("consumers take in submission order while the ring wraps", () => {
    const { queue } = fresh(3);
    const ids: number[] = [];
    for (let round = 0; round < 10; round++) {
      const slots = [0, 1, 2].map((k) => queue.submit({ ...REQUEST, requestId: round * 3 + k }));
      for (let k = 0; k < 3; k++) {
        const t = queue.take()!;
        ids.push(t.request.requestId);
        queue.complete(t.slot, 0);
      }
      for (const slot of slots) queue.waitReply(slot);
    }
    expect(ids).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });
});

describe("misuse is a typed error", () => {
  test.each([
    ["a buffer index out of range", { buffer: 4 }, "buffer"],
    ["a window past the buffer", { offset: 8000, length: 200 }, "length"],
    ["too many arguments", { args: [1, 2, 3, 4, 5, 6, 7] }, "args.length"],
    ["a fractional argument", { args: [1.5] }, "args[0]"],
    ["a negative request id", { requestId: -1 }, "requestId"],
    ["an opcode beyond u32", { opcode: 2 ** 32 }, "opcode"],
  ])("submit with %s throws RequestRangeError", (_what, change, field) => {
    const { queue } = fresh();
    let error: unknown;
    try {
      queue.submit({ ...REQUEST, ...change });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RequestRangeError);
    expect((error as RequestRangeError).field).toBe(field);
    expect(queue.pending()).toBe(0);
  });

  test("waitReply on a slot nobody submitted throws SlotStateError", () => {
    const { queue } = fresh();
    expect(() => queue.waitReply(0)).toThrow(SlotStateError);
    expect(() => queue.waitReply(3)).toThrow(SlotStateError);
    expect(() => queue.complete(-1, 0)).toThrow(SlotStateError);
  });

  test("waitReply with a timeout and no consumer throws WaitTimeoutError, and the slot stays submitted", () => {
    const { queue } = fresh();
    const slot = queue.submit(REQUEST);
    expect(() => queue.waitReply(slot, { timeoutMs: 2 })).toThrow(WaitTimeoutError);
    expect(queue.stats.sleeps).toBeGreaterThan(0);
    queue.complete(queue.take()!.slot, 1);
    expect(queue.waitReply(slot).result).toBe(1);
  });

  test("complete with a non-integer result or an oversized reply throws RequestRangeError", () => {
    const { queue } = fresh();
    queue.submit(REQUEST);
    const { slot } = queue.take()!;
    expect(() => queue.complete(slot, 0.5)).toThrow(RequestRangeError);
    expect(() => queue.complete(slot, 0, 8193)).toThrow(RequestRangeError);
  });

  test("complete on an entry tampered with meanwhile returns false and drops the reply", () => {
    const { region, queue } = fresh();
    queue.submit(REQUEST);
    const { slot } = queue.take()!;
    Atomics.store(region.words, queue.entryOffset(slot) >> 2, ENTRY_STATE.EMPTY);
    expect(queue.complete(slot, 0)).toBe(false);
    expect(queue.stats.tampered).toBe(1);
    expect(queue.stateOf(slot)).toBe(ENTRY_STATE.EMPTY);
  });

  test("a closed region: submit and waitReply throw RegionClosedError, take still only times out", () => {
    const { region, queue } = fresh();
    const slot = queue.submit(REQUEST);
    region.close();
    expect(() => queue.submit(REQUEST)).toThrow(RegionClosedError);
    expect(() => queue.waitReply(slot)).toThrow(RegionClosedError);
    expect(queue.take({ timeoutMs: 1 })).not.toBeNull();
  });

  test("a queue index out of range throws RequestRangeError", () => {
    const { region } = fresh();
    expect(() => new RequestQueue(region, 2)).toThrow(RequestRangeError);
  });
});

describe("reclaimClient", () => {
  test("frees the VALID and DONE entries of one client only", () => {
    const { region, queue } = fresh(3);
    const doneSlot = queue.submit({ ...REQUEST, client: 5, requestId: 1 });
    const otherSlot = queue.submit({ ...REQUEST, client: 6, requestId: 2 });
    const validSlot = queue.submit({ ...REQUEST, client: 5, requestId: 3 });
    const taken = queue.tryTake()!;
    expect(taken.slot).toBe(doneSlot);
    queue.complete(taken.slot, 0); // answered, never collected: client 5 died
    expect(queue.pending()).toBe(2);
    expect(queue.reclaimClient(5)).toBe(2);
    expect(queue.stateOf(doneSlot)).toBe(ENTRY_STATE.EMPTY);
    expect(queue.stateOf(validSlot)).toBe(ENTRY_STATE.EMPTY);
    expect(queue.stateOf(otherSlot)).toBe(ENTRY_STATE.VALID);
    expect(queue.pending()).toBe(1);
    expect(queue.stats.reclaimed).toBe(2);
    expect(region.view.getUint32(queue.entryOffset(otherSlot) + ENTRY.offsets.client, true)).toBe(6);
    expect(queue.tryTake()!.request.requestId).toBe(2);
  });
});
