/** Tests for kernel/ipc/ring/validate.ts: garbage in an entry answers an errno, and the consumer survives it. */
import { afterEach, describe, expect, test } from "bun:test";
import { ENTRY, ENTRY_STATE, type RequestDescriptor } from "../../../../kernel/ipc/protocol/entry.ts";
import { ERRNO } from "../../../../kernel/ipc/protocol/errno.ts";
import { lookupOperation, OPCODE } from "../../../../kernel/ipc/protocol/operations.ts";
import { RequestQueue } from "../../../../kernel/ipc/ring/queue.ts";
import { Region } from "../../../../kernel/ipc/ring/region.ts";
import { validateReply, validateRequest, validateState } from "../../../../kernel/ipc/ring/validate.ts";
import { cleanUp, regionPath } from "./fixtures/scratch.ts";

const PARAMS = { queueCount: 1, queueCapacity: 8, bufferCount: 4, bufferSize: 8192 };
const GOOD: RequestDescriptor = { requestId: 1, opcode: OPCODE.pread, client: 0, buffer: 3, offset: 4096, length: 4096, args: [3, 4096, 0] };

afterEach(cleanUp);

describe("validateState", () => {
  test("the five states are fine, anything else is EINVAL", () => {
    for (const value of Object.values(ENTRY_STATE)) expect(validateState(value)).toBe(0);
    for (const value of [5, -1, 0x7fffffff, -0x80000000, 1000]) expect(validateState(value)).toBe(ERRNO.EINVAL);
  });
});

describe("validateRequest", () => {
  test("a well-formed request is fine", () => {
    expect(validateRequest(PARAMS, GOOD)).toBe(0);
    expect(validateRequest(PARAMS, { ...GOOD, offset: 8192, length: 0, opcode: OPCODE.null })).toBe(0);
  });

  test("an unknown opcode is ENOSYS", () => {
    expect(validateRequest(PARAMS, { ...GOOD, opcode: 0 })).toBe(ERRNO.ENOSYS);
    expect(validateRequest(PARAMS, { ...GOOD, opcode: 9999 })).toBe(ERRNO.ENOSYS);
  });

  test.each([
    ["a buffer index out of range", { buffer: 4 }],
    ["a huge buffer index", { buffer: 0xffffffff }],
    ["an offset past the buffer", { offset: 8193, length: 0 }],
    ["a window running off the buffer", { offset: 4097, length: 4096 }],
    ["a length larger than the buffer", { offset: 0, length: 0xffffffff }],
    ["a window too small for a stat reply", { opcode: OPCODE.fstat, length: 100 }],
    ["a window too small for a statfs reply", { opcode: OPCODE.statfs, length: 119 }],
    ["a window too small for a path", { opcode: OPCODE.unlink, length: 1 }],
    ["a window too small for two paths", { opcode: OPCODE.rename, length: 3 }],
  ])("%s is EINVAL", (_what, change) => {
    expect(validateRequest(PARAMS, { ...GOOD, ...change })).toBe(ERRNO.EINVAL);
  });

  test("validateReply: more reply bytes than the window is EIO", () => {
    expect(validateReply(100, 100)).toBe(0);
    expect(validateReply(100, 101)).toBe(ERRNO.EIO);
  });
});

describe("garbage through the consumer", () => {
  test("take() reports EINVAL for an out-of-range window and the entry can still be answered", () => {
    const region = Region.create(regionPath(), PARAMS);
    const queue = new RequestQueue(region, 0);
    const slot = queue.submit(GOOD);
    region.view.setUint32(queue.entryOffset(slot) + ENTRY.offsets.length, 0xfffffff0, true);
    const taken = queue.take({ timeoutMs: 1000 })!;
    expect(taken.status).toBe(ERRNO.EINVAL);
    expect(queue.complete(taken.slot, -taken.status)).toBe(true);
    expect(queue.waitReply(slot).result).toBe(-ERRNO.EINVAL);
  });

  test("a garbage state word is reset to EMPTY and the entry is reused", () => {
    const region = Region.create(regionPath(), { ...PARAMS, queueCapacity: 1 });
    const queue = new RequestQueue(region, 0);
    Atomics.store(region.words, queue.entryOffset(0) >> 2, 0x5eadbeef);
    expect(queue.trySubmit(GOOD)).toBe(-1);
    expect(queue.tryTake()).toBeNull();
    expect(queue.stats.repaired).toBe(1);
    expect(queue.stateOf(0)).toBe(ENTRY_STATE.EMPTY);
    expect(queue.trySubmit(GOOD)).toBe(0);
  });

  test("fuzz: random bytes in entries and buffers never make the consumer throw, and every request it accepts is in range", () => {
    const region = Region.create(regionPath(), PARAMS);
    const queue = new RequestQueue(region, 0, { maxSpin: 0 });
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const counts = { ok: 0, einval: 0, enosys: 0 };
    for (let i = 0; i < 5000; i++) {
      const slot = Math.floor(random() * PARAMS.queueCapacity);
      const base = queue.entryOffset(slot);
      const length = Math.floor(random() * 128);
      for (let k = 0; k < length; k++) region.bytes[base + Math.floor(random() * 128)] = Math.floor(random() * 256);
      const choice = random();
      if (choice < 0.3) Atomics.store(region.words, base >> 2, ENTRY_STATE.VALID);
      else if (choice < 0.4) region.view.setUint32(base + ENTRY.offsets.opcode, OPCODE.pread, true);
      region.buffer(Math.floor(random() * PARAMS.bufferCount))[Math.floor(random() * PARAMS.bufferSize)] = 0xff;
      for (let taken = queue.tryTake(); taken !== null; taken = queue.tryTake()) {
        const { request, status } = taken;
        if (status === 0) {
          counts.ok++;
          expect(typeof lookupOperation(request.opcode)).toBe("object");
          expect(request.buffer).toBeLessThan(PARAMS.bufferCount);
          expect(request.offset + request.length).toBeLessThanOrEqual(PARAMS.bufferSize);
        } else if (status === ERRNO.EINVAL) counts.einval++;
        else counts.enosys++;
        queue.complete(taken.slot, status === 0 ? 0 : -status);
      }
      for (let s = 0; s < PARAMS.queueCapacity; s++) expect(validateState(queue.stateOf(s))).toBe(0);
    }
    expect(counts.einval + counts.enosys).toBeGreaterThan(0);
    // A well-behaved producer still gets through once the garbage stops.
    for (let s = 0; s < PARAMS.queueCapacity; s++) {
      const state = queue.stateOf(s);
      if (state === ENTRY_STATE.DONE || state === ENTRY_STATE.WRITING || state === ENTRY_STATE.SERVING) Atomics.store(region.words, queue.entryOffset(s) >> 2, ENTRY_STATE.EMPTY);
    }
    const slot = queue.submit({ ...GOOD, opcode: OPCODE.null, requestId: 77 });
    const taken = queue.take({ timeoutMs: 1000 })!;
    expect(taken).toMatchObject({ slot, status: 0, request: { requestId: 77 } });
    queue.complete(taken.slot, 5);
    expect(queue.waitReply(slot)).toEqual({ result: 5, replyLength: 0, requestId: 77 });
  });
});
