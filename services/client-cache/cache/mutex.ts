/**
 * @module mutex — a futex-style mutex on one word of a SharedArrayBuffer (0 free, 1 held, 2 held with waiters), for
 * the Workers of one process: a short spin, then Atomics.wait. Used for the cache mutex and the per-file I/O locks.
 */

const FREE = 0;
const HELD = 1;
const CONTENDED = 2;
/** Spins before sleeping: the cache mutex is held for well under a microsecond. */
const SPINS = 64;

/** Tries once to take the mutex at `words[index]`; true when taken. */
export function tryLock(words: Int32Array, index: number): boolean {
  return Atomics.compareExchange(words, index, FREE, HELD) === FREE;
}

/** Takes the mutex at `words[index]`, sleeping while another thread holds it. */
export function lock(words: Int32Array, index: number): void {
  if (Atomics.compareExchange(words, index, FREE, HELD) === FREE) return;
  for (let spin = 0; spin < SPINS; spin++) {
    if (Atomics.load(words, index) === FREE && Atomics.compareExchange(words, index, FREE, HELD) === FREE) return;
  }
  while (Atomics.exchange(words, index, CONTENDED) !== FREE) Atomics.wait(words, index, CONTENDED, 100);
}

/** Releases the mutex at `words[index]`, waking one sleeper if any. */
export function unlock(words: Int32Array, index: number): void {
  if (Atomics.exchange(words, index, FREE) === CONTENDED) Atomics.notify(words, index, 1);
}
