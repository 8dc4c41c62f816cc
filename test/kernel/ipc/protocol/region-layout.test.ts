/** Tests for kernel/ipc/protocol/region-layout.ts: the region's sections and their computed offsets. */
import { describe, expect, test } from "bun:test";
import { ENTRY } from "../../../../kernel/ipc/protocol/entry.ts";
import {
  checkRegionSlots, computeRegionLayout, initialHeader, QUEUE_HEADER, REGION_HEADER, REGION_MAGIC, REGION_SECTIONS,
  RegionLayoutError, SLOT, type SectionSpec,
} from "../../../../kernel/ipc/protocol/region-layout.ts";
import { defineStruct } from "../../../../kernel/ipc/protocol/struct.ts";

describe("region layout", () => {
  test("sections in order with computed offsets (2 queues × 3 entries, 4 buffers of 8 KiB)", () => {
    const layout = computeRegionLayout({ queueCount: 2, queueCapacity: 3, bufferCount: 4, bufferSize: 8192 });
    expect(layout.header).toEqual({ offset: 0, slot: 256, count: 1, size: 256 });
    expect(layout.queues).toEqual({ offset: 256, slot: 128, count: 2, size: 256 });
    expect(layout.entries).toEqual({ offset: 512, slot: 128, count: 6, size: 768 });
    expect(layout.buffers).toEqual({ offset: 4096, slot: 8192, count: 4, size: 32768 });
    expect(layout.size).toBe(4096 + 32768);
    expect(layout.queueOffset(1)).toBe(384);
    expect(layout.entryOffset(0, 0)).toBe(512);
    expect(layout.entryOffset(1, 2)).toBe(512 + 5 * 128);
    expect(layout.bufferOffset(3)).toBe(4096 + 3 * 8192);
  });

  test("buffers start on a page even when entries end mid-page, and the size is whole pages", () => {
    const layout = computeRegionLayout({ queueCount: 3, queueCapacity: 33, bufferCount: 1, bufferSize: 4096 });
    expect(layout.entries.offset + layout.entries.size).toBe(256 + 3 * 128 + 99 * 128);
    expect(layout.buffers.offset % 4096).toBe(0);
    expect(layout.buffers.offset).toBeGreaterThanOrEqual(layout.entries.offset + layout.entries.size);
    expect(layout.size % 4096).toBe(0);
  });

  test("structs: header (the mutation generation on a cache line of its own), queue header (producer and consumer words on separate cache lines)", () => {
    expect(REGION_HEADER.size).toBe(192);
    expect(REGION_HEADER.offsets.mutations).toBe(128);
    expect(REGION_HEADER.offsets.mutations >> 6).not.toBe(REGION_HEADER.offsets.status >> 6);
    expect(QUEUE_HEADER.size).toBe(128);
    expect(QUEUE_HEADER.offsets.post_seq >> 6).not.toBe(QUEUE_HEADER.offsets.free_seq >> 6);
    expect(QUEUE_HEADER.offsets.consumer_sleepers >> 6).not.toBe(QUEUE_HEADER.offsets.producer_sleepers >> 6);
  });

  test("initial header describes the layout", () => {
    const layout = computeRegionLayout({ queueCount: 2, queueCapacity: 3, bufferCount: 4, bufferSize: 8192 });
    expect(initialHeader(layout)).toMatchObject({
      magic: REGION_MAGIC, status: 0, size: layout.size, queue_count: 2, queue_capacity: 3, entry_slot: SLOT.entry,
      buffer_count: 4, buffer_size: 8192, queues_offset: 256, entries_offset: 512, buffers_offset: 4096,
    });
    expect(new TextDecoder().decode(new Uint32Array([REGION_MAGIC]))).toBe("DNUS");
  });

  test.each([
    ["queueCount", "zero queues", { queueCount: 0, queueCapacity: 1, bufferCount: 1, bufferSize: 4096 }],
    ["queueCapacity", "zero entries", { queueCount: 1, queueCapacity: 0, bufferCount: 1, bufferSize: 4096 }],
    ["queueCapacity", "a fractional capacity", { queueCount: 1, queueCapacity: 1.5, bufferCount: 1, bufferSize: 4096 }],
    ["bufferCount", "too many buffers", { queueCount: 1, queueCapacity: 1, bufferCount: 70000, bufferSize: 4096 }],
    ["bufferSize", "a buffer size off the page", { queueCount: 1, queueCapacity: 1, bufferCount: 1, bufferSize: 5000 }],
    ["size", "64 Ki buffers of 1 GiB", { queueCount: 1, queueCapacity: 1, bufferCount: 65536, bufferSize: 2 ** 30 }],
  ])("rejects %s: %s", (field, _what, params) => {
    expect(() => computeRegionLayout(params)).toThrow(RegionLayoutError);
    try {
      computeRegionLayout(params);
    } catch (error) {
      expect((error as RegionLayoutError).field).toBe(field);
    }
  });
});

describe("start-up slot check", () => {
  test("the real sections pass", () => {
    expect(() => checkRegionSlots()).not.toThrow();
    expect(ENTRY.size).toBeLessThanOrEqual(SLOT.entry);
  });

  test("a struct larger than its slot is caught", () => {
    const big = defineStruct("big", "", [{ name: "x", type: "u64", offset: 0, count: 17 }]);
    const sections: SectionSpec[] = REGION_SECTIONS.map((s) => (s.name === "entries" ? { ...s, struct: big } : s));
    expect(() => checkRegionSlots(sections)).toThrow("struct big is 136 bytes, its slot only 128");
  });

  test("a slot that breaks the alignment of the next is caught", () => {
    const sections: SectionSpec[] = REGION_SECTIONS.map((s) => (s.name === "queues" ? { ...s, slot: () => 100 } : s));
    expect(() => checkRegionSlots(sections)).toThrow(RegionLayoutError);
  });
});
