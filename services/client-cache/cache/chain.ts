/** @module chain — the singly linked lists of the cache's tables (hash chains, per-file lists), threaded through Int32 words. */
import { NIL } from "./layout.ts";

/**
 * Unlinks `slot` from the list whose first slot is in word `head` of `w`, where `next(s)` is the word holding the
 * slot after `s`. Does nothing when `slot` is not on the list.
 */
export function unlinkFromChain(w: Int32Array, head: number, slot: number, next: (slot: number) => number): void {
  if (w[head] === slot) {
    w[head] = w[next(slot)]!;
    return;
  }
  let previous = w[head]!;
  while (previous !== NIL && w[next(previous)] !== slot) previous = w[next(previous)]!;
  if (previous !== NIL) w[next(previous)] = w[next(slot)]!;
}
