/**
 * @module thread-lock — a mutex in one word of shared memory, for the threads (Workers) of one process: the classic
 * three-state futex mutex (0 free, 1 held, 2 held with waiters) on Atomics.wait/notify. Meant for sections of
 * microseconds; a thread that dies holding it leaves it held, so nothing inside may throw for a reason but a bug.
 */

/** Runs `body` holding the lock in word `at` of `words`; returns what it returns. */
export function withThreadLock<T>(words: Int32Array, at: number, body: () => T): T {
  if (Atomics.compareExchange(words, at, 0, 1) !== 0) {
    let state = Atomics.exchange(words, at, 2);
    while (state !== 0) {
      Atomics.wait(words, at, 2);
      state = Atomics.exchange(words, at, 2);
    }
  }
  try {
    return body();
  } finally {
    if (Atomics.exchange(words, at, 0) === 2) Atomics.notify(words, at, 1);
  }
}
