/** Tests for kernel/ipc/ring/futex.ts: the non-private futex calls. */
import { describe, expect, test } from "bun:test";
import { ptr } from "bun:ffi";
import { futexWait, futexWake, FUTEX_OP } from "../../../../kernel/ipc/ring/futex.ts";

describe("futex", () => {
  test("never uses FUTEX_PRIVATE_FLAG (a private futex cannot wake another process)", () => {
    expect(FUTEX_OP.WAIT & 128).toBe(0);
    expect(FUTEX_OP.WAKE & 128).toBe(0);
    expect(FUTEX_OP).toEqual({ WAIT: 0, WAKE: 1 });
  });

  test("a wait on a word that differs returns at once", () => {
    const word = new Int32Array(1);
    word[0] = 5;
    expect(futexWait(ptr(word), 4)).toBe("changed");
  });

  test("a wait with a timeout and nobody waking times out", () => {
    const word = new Int32Array(1);
    expect(futexWait(ptr(word), 0, 1)).toBe("timeout");
  });

  test("a wake with no sleeper wakes nobody", () => {
    const word = new Int32Array(1);
    expect(futexWake(ptr(word), 1)).toBe(0);
  });
});
