/** @module spin-wait — wait for a shared word to change: spin briefly on Atomics.load, then sleep on the futex with a "sleeping" flag. */
import { futexWait } from "./futex.ts";

/** A sleep that ended sooner than this after the spin gave up means a longer spin would have caught the change. */
export const QUICK_WAKE_MS = 0.2;

/**
 * An adaptive spin budget, one per waiting thread and kind of wait. A spin that sees the change grows the budget.
 * A spin that ends in sleep halves it (oversubscribed cores back off to futex quickly) — unless the sleep was short
 * and the peer runs on another core: then the change was only just out of reach, and the budget doubles.
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
  /**
   * The spin ran out and the thread slept for `sleptMs` (unknown: treat as long). `peerSameCore` says the other
   * side shares this thread's core, where spinning only delays it.
   */
  slept(sleptMs = Infinity, peerSameCore = false): void {
    if (sleptMs < QUICK_WAKE_MS && !peerSameCore) this.current = Math.min(this.max, this.current * 2 + 64);
    else this.current = Math.max(this.min, this.current >> 1);
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
  /** Whether the other side runs on this thread's core right now (then a short sleep does not grow the budget). */
  readonly peerSameCore?: () => boolean;
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
  const address = target.base + word * 4;
  const sleptAt = performance.now();
  const done = (changed: boolean): boolean => {
    const sleptMs = performance.now() - sleptAt;
    budget.slept(changed ? sleptMs : Infinity, sleptMs < QUICK_WAKE_MS && (target.peerSameCore?.() ?? false));
    return changed;
  };
  for (;;) {
    check?.();
    const remaining = deadline - performance.now();
    if (remaining <= 0) return done(Atomics.load(words, word) !== expected);
    Atomics.add(words, sleepers, 1);
    try {
      // The flag is visible before this re-check (seq-cst), so a waker that changed the word after it sees the flag.
      if (Atomics.load(words, word) !== expected) return done(true);
      counters.sleeps++;
      // Without a check there is nothing to re-check between slices: sleep until woken or the deadline.
      const sleepMs = check ? Math.min(remaining, SLEEP_SLICE_MS) : remaining === Infinity ? undefined : remaining;
      if (futexWait(address, expected, sleepMs) === "woken") counters.woken++;
    } finally {
      Atomics.sub(words, sleepers, 1);
    }
    if (Atomics.load(words, word) !== expected) return done(true);
  }
}
