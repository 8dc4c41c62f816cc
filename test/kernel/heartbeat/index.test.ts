/** Tests of the shared-memory heartbeat file. */
import { afterEach, expect, test } from "bun:test";
import { existsSync, rmSync, statSync } from "node:fs";
import { HEARTBEAT_SLOTS, HeartbeatRegion } from "../../../kernel/heartbeat/index.ts";

const path = `/dev/shm/danaus.test-${process.pid}.hb`;
afterEach(() => rmSync(path, { force: true }));

test("a created file is 0600, and beats written through one mapping are seen through another", () => {
  const supervisor = HeartbeatRegion.create(path);
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const service = HeartbeatRegion.open(path);
  const slot = service.slot(3);
  slot.beat(0);
  slot.beat(120);
  slot.beat(80);
  expect(supervisor.slot(3).count).toBe(3);
  expect(supervisor.slot(3).maxGapMs).toBe(120);
  expect(supervisor.slot(2).count).toBe(0);
  supervisor.slot(3).reset(1234);
  expect(service.slot(3).count).toBe(0);
  expect(service.slot(3).pid).toBe(1234);
});

test("creating over an existing file fails instead of sharing it", () => {
  HeartbeatRegion.create(path);
  expect(() => HeartbeatRegion.create(path)).toThrow(/EEXIST/);
});

test("slots outside the file are refused, and unlink removes the file", () => {
  const region = HeartbeatRegion.create(path);
  expect(() => region.slot(HEARTBEAT_SLOTS)).toThrow(RangeError);
  expect(() => region.slot(-1)).toThrow(RangeError);
  region.unlink();
  expect(existsSync(path)).toBe(false);
});
