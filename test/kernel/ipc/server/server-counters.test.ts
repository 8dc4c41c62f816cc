import { describe, expect, test } from "bun:test";
import { ServerCounters, ServiceTimer } from "../../../../kernel/ipc/server/index.ts";

describe("server counters", () => {
  test("threads add, the server reads each counter on its own", () => {
    const counters = new ServerCounters();
    const other = new ServerCounters(counters.shared);
    other.add("referencedBytes", 4096);
    other.add("copiedBytes", 7);
    expect(counters.read("referencedBytes")).toBe(4096);
    expect(counters.read("copiedBytes")).toBe(7);
    expect(counters.read("requests")).toBe(0);
  });

  test("a timer publishes requests and time in batches, and everything on flush", () => {
    const counters = new ServerCounters();
    const timer = new ServiceTimer(counters);
    const started = performance.now() - 2; // each request took at least 2 ms
    for (let i = 0; i < 10; i++) timer.answered(started);
    expect(counters.read("requests")).toBe(0); // not yet a batch
    timer.flush();
    expect(counters.read("requests")).toBe(10);
    expect(counters.read("busyMicros")).toBeGreaterThanOrEqual(10 * 2000);
    for (let i = 0; i < 64; i++) timer.answered(performance.now());
    expect(counters.read("requests")).toBe(74); // a full batch goes out without a flush
    timer.flush();
    expect(counters.read("requests")).toBe(74); // nothing left to add
  });

  test("sub-microsecond requests add up instead of rounding away", () => {
    const counters = new ServerCounters();
    const timer = new ServiceTimer(counters);
    // 1,000 requests of 0.4 µs each, one per flush: 400 µs in all, though each rounds to 0.
    for (let i = 0; i < 1000; i++) {
      timer.answered(performance.now() - 0.0004);
      timer.flush();
    }
    expect(counters.read("requests")).toBe(1000);
    expect(counters.read("busyMicros")).toBeGreaterThanOrEqual(390);
  });
});
