/** @module spin-wait — wait for a shared word to change: spin briefly on Atomics.load, then sleep on the futex with a "sleeping" flag. */
import { futexWait } from "./futex.ts";

/**
 * An adaptive spin budget, one per waiting thread and kind of wait. A spin that ends in sleep halves
 * the budget (oversubscribed cores back off to futex quickly); a spin that sees the change grows it.
 */
export class SpinBudget {
  /** Spin iterations the next wait may use. */
  current: number;
  /** @param initial starting budget; @param max ceiling (0 disables spinning); @param min floor. */
  constructor(initial = 2_000, readonly max = 20_000, readonly min = 0) {
    this.current = Math.min(Math.max(initial, min), max);
  }
  /** The change arrived while spinning. */
  spun(): void {
    this.current = Math.min(this.max, this.current + (this.current >> 3) + 16);
  }
  /** The spin ran out and the thread slept. */
  slept(): void {
    this.current = Math.max(this.min, this.current >> 1);
  }
}

/** Where a wait sleeps: the word to watch and the counter that flags sleepers to the waking side. */
export interface WaitTarget {
  /** Int32Array over the whole mapping. */
  readonly words: Int32Array;
  /** Address of `words[0]` (the mapping's base). */
  readonly base: number;
  /** Index in `words` of the futex word. */
  readonly word: number;
  /** Index in `words` of the sleepers counter the other side checks before calling futex wake. */
  readonly sleepers: number;
}

/** Counters a wait reports into. */
export interface WaitCounters {
  /** futex waits entered. */
  sleeps: number;
  /** futex waits that ended by a wake (not a timeout or a changed word). */
  woken: number;
}

/** How long to sleep in one futex call before calling a wait's `check` again. */
export const SLEEP_SLICE_MS = 50;

/**
 * Return when `words[target.word]` no longer equals `expected` (true), or at `deadline` (a
 * `performance.now()` time; false). Spins `budget.current` loads first, then flags itself in
 * `words[target.sleepers]` and sleeps on the futex. With a `check`, it sleeps in slices of
 * {@link SLEEP_SLICE_MS} and calls `check` between them (it may throw to abandon the wait, e.g. when the
 * region closed); without one, it sleeps until woken or the deadline.
 */
export function waitForChange(
  target: WaitTarget,
  expected: number,
  budget: SpinBudget,
  counters: WaitCounters,
  deadline = Infinity,
  check?: () => void,
): boolean {
  const { words, word, sleepers } = target;
  for (let i = budget.current; i > 0; i--) {
    if (Atomics.load(words, word) !== expected) {
      budget.spun();
      return true;
    }
  }
  budget.slept();
  const address = target.base + word * 4;
  for (;;) {
    check?.();
    const remaining = deadline - performance.now();
    if (remaining <= 0) return Atomics.load(words, word) !== expected;
    Atomics.add(words, sleepers, 1);
    try {
      // The flag is visible before this re-check (seq-cst), so a waker that changed the word after it sees the flag.
      if (Atomics.load(words, word) !== expected) return true;
      counters.sleeps++;
      // Without a check there is nothing to re-check between slices: sleep until woken or the deadline.
      const sleepMs = check ? Math.min(remaining, SLEEP_SLICE_MS) : remaining === Infinity ? undefined : remaining;
      if (futexWait(address, expected, sleepMs) === "woken") counters.woken++;
    } finally {
      Atomics.sub(words, sleepers, 1);
    }
    if (Atomics.load(words, word) !== expected) return true;
  }
}
