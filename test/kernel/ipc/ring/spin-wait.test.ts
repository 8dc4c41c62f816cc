/** Tests for kernel/ipc/ring/spin-wait.ts: the adaptive spin budget and the spin-then-futex wait. */
import { describe, expect, test } from "bun:test";
import { ptr } from "bun:ffi";
import { SpinBudget, waitForChange } from "../../../../kernel/ipc/ring/spin-wait.ts";

describe("SpinBudget", () => {
  test("halves on sleep down to the floor and grows on success up to the ceiling", () => {
    const budget = new SpinBudget(1000, 2000, 10);
    budget.slept();
    expect(budget.current).toBe(500);
    for (let i = 0; i < 20; i++) budget.slept();
    expect(budget.current).toBe(10);
    for (let i = 0; i < 200; i++) budget.spun();
    expect(budget.current).toBe(2000);
  });

  test("a zero ceiling disables spinning", () => {
    const budget = new SpinBudget(5000, 0);
    expect(budget.current).toBe(0);
    budget.spun();
    expect(budget.current).toBe(0);
  });
});

describe("waitForChange", () => {
  const setup = () => {
    const words = new Int32Array(4);
    return { words, target: { words, base: ptr(words), word: 1, sleepers: 2 }, counters: { sleeps: 0, woken: 0 } };
  };

  test("returns true at once when the word already differs, without sleeping", () => {
    const { words, target, counters } = setup();
    words[1] = 3;
    expect(waitForChange(target, 0, new SpinBudget(10), counters)).toBe(true);
    expect(counters.sleeps).toBe(0);
  });

  test("returns false at the deadline, having flagged itself asleep and unflagged again", () => {
    const { words, target, counters } = setup();
    // On a busy machine the deadline may pass before the first sleep: wait again until one wait slept (each times out).
    for (let tries = 0; tries < 100 && counters.sleeps === 0; tries++) {
      expect(waitForChange(target, 0, new SpinBudget(0, 0), counters, performance.now() + 2)).toBe(false);
    }
    expect(counters.sleeps).toBeGreaterThan(0);
    expect(words[2]).toBe(0);
  });

  test("check() runs between sleeps and may abandon the wait", () => {
    const { target, counters } = setup();
    expect(() => waitForChange(target, 0, new SpinBudget(0, 0), counters, Infinity, () => {
      throw new Error("closed");
    })).toThrow("closed");
  });
});
