/** Tests for kernel/ipc/ring/region.ts: creating, opening and attaching the /dev/shm region. */
import { afterEach, describe, expect, test } from "bun:test";
import { statSync, writeFileSync } from "node:fs";
import { REGION_HEADER, REGION_STATUS } from "../../../../kernel/ipc/protocol/region-layout.ts";
import { RegionFormatError, RequestRangeError, SystemCallError } from "../../../../kernel/ipc/ring/errors.ts";
import { Region } from "../../../../kernel/ipc/ring/region.ts";
import { cleanUp, regionPath } from "./fixtures/scratch.ts";

const PARAMS = { queueCount: 2, queueCapacity: 4, bufferCount: 3, bufferSize: 4096 };

afterEach(cleanUp);

describe("Region.create", () => {
  test("makes a 0600 regular file of the layout's size, READY, with the header filled in", () => {
    const path = regionPath();
    const region = Region.create(path, PARAMS);
    const stat = statSync(path);
    expect(stat.isFile()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o600);
    expect(stat.size).toBe(region.layout.size);
    expect(region.status()).toBe(REGION_STATUS.READY);
    expect(region.header()).toMatchObject({ queue_count: 2, queue_capacity: 4, buffer_count: 3, buffer_size: 4096, size: region.layout.size });
    expect(region.bytes.length).toBe(region.layout.size);
    expect(region.path).toBe(path);
  });

  test("refuses an existing file (O_EXCL) and leaves it alone", () => {
    const path = regionPath();
    writeFileSync(path, "someone else's");
    let error: unknown;
    try {
      Region.create(path, PARAMS);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SystemCallError);
    expect((error as SystemCallError).code).toBe("EEXIST");
    expect(statSync(path).size).toBe(14);
  });

  test("bad params throw before any file is made", () => {
    const path = regionPath();
    expect(() => Region.create(path, { ...PARAMS, queueCount: 0 })).toThrow("queueCount");
    expect(() => statSync(path)).toThrow();
  });
});

describe("Region.open and Region.attach", () => {
  test("a second mapping of the file sees the same bytes", () => {
    const path = regionPath();
    const a = Region.create(path, PARAMS);
    const b = Region.open(path);
    expect(b.address).not.toBe(a.address);
    expect(b.layout.size).toBe(a.layout.size);
    a.buffer(2)[100] = 42;
    expect(b.buffer(2)[100]).toBe(42);
    Atomics.store(b.words, b.layout.entryOffset(1, 3) >> 2, 7);
    expect(Atomics.load(a.words, a.layout.entryOffset(1, 3) >> 2)).toBe(7);
  });

  test("attach by address reuses this process's mapping", () => {
    const path = regionPath();
    const a = Region.create(path, PARAMS);
    const c = Region.attach(a.address);
    expect(c.path).toBeUndefined();
    c.buffer(0)[0] = 9;
    expect(a.buffer(0)[0]).toBe(9);
  });

  test("unlink removes the file; the mapping stays usable", () => {
    const path = regionPath();
    const a = Region.create(path, PARAMS);
    a.unlink();
    expect(() => statSync(path)).toThrow();
    a.buffer(1)[5] = 1;
    expect(a.buffer(1)[5]).toBe(1);
  });

  test("a missing file is a SystemCallError ENOENT", () => {
    expect(() => Region.open(regionPath())).toThrow(SystemCallError);
  });

  test.each([
    ["magic", (r: Region) => r.view.setUint32(REGION_HEADER.offsets.magic, 0x12345678, true)],
    ["version", (r: Region) => r.view.setUint32(REGION_HEADER.offsets.version, 99, true)],
    ["status", (r: Region) => r.view.setUint32(REGION_HEADER.offsets.status, REGION_STATUS.INITIALIZING, true)],
    ["queueCount", (r: Region) => r.view.setUint32(REGION_HEADER.offsets.queue_count, 0, true)],
    ["size", (r: Region) => r.view.setUint32(REGION_HEADER.offsets.buffer_count, 300, true)],
    ["entries_offset", (r: Region) => r.view.setUint32(REGION_HEADER.offsets.entries_offset, 1, true)],
  ])("a header with a bad %s is a RegionFormatError naming it", (field, corrupt) => {
    const path = regionPath();
    corrupt(Region.create(path, PARAMS));
    let error: unknown;
    try {
      Region.open(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RegionFormatError);
    expect((error as RegionFormatError).field).toBe(field);
  });

  test("a file too small for a header is a RegionFormatError", () => {
    const path = regionPath();
    writeFileSync(path, "tiny");
    expect(() => Region.open(path)).toThrow(RegionFormatError);
  });
});

describe("Region", () => {
  test("buffer() bounds-checks the index", () => {
    const region = Region.create(regionPath(), PARAMS);
    expect(region.buffer(2).length).toBe(4096);
    expect(() => region.buffer(3)).toThrow(RequestRangeError);
    expect(() => region.buffer(-1)).toThrow(RequestRangeError);
  });

  test("claimService records the pid and bumps the epoch; close marks CLOSED", () => {
    const region = Region.create(regionPath(), PARAMS);
    expect(region.claimService(1234)).toBe(1);
    expect(region.claimService(1235)).toBe(2);
    expect(region.header()).toMatchObject({ service_pid: 1235, epoch: 2 });
    region.close();
    expect(region.status()).toBe(REGION_STATUS.CLOSED);
  });
});
