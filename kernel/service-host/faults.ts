/** @module faults — the in-process fault kinds a service carries out on the supervisor's order (hang, slow, oom, exit). */
import type { Logger } from "../log/index.ts";
import { CRASH_EXIT_CODE, OOM_UNENFORCED_EXIT_CODE, type ToService } from "./messages.ts";

/**
 * Fault state every request handler of the process consults, in a SharedArrayBuffer so the service threads (Workers)
 * of the process see it too: pass `shared` to a Worker and rebuild it there with `FaultState.attach`.
 */
export class FaultState {
  private readonly words: Int32Array;
  private clearTimer: ReturnType<typeof setTimeout> | null = null;
  /** Never notified: {@link delay} waits on it for the latency. */
  private readonly sleepCell = new Int32Array(new SharedArrayBuffer(4));

  constructor(readonly shared: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.words = new Int32Array(shared);
  }

  /** The same state, seen from another thread. */
  static attach(shared: SharedArrayBuffer): FaultState {
    return new FaultState(shared);
  }

  /** Extra latency (ms) to add to the request being served now: non-zero only while a `slow` fault lasts. */
  latencyMs(): number {
    return Atomics.load(this.words, 0);
  }

  /**
   * Waits out the current `slow` latency on this thread, blocking it: for threads that serve requests synchronously
   * (the FUSE serving Workers), where a timer would never run. Returns at once when no `slow` fault lasts.
   */
  delay(): void {
    const ms = this.latencyMs();
    if (ms > 0) Atomics.wait(this.sleepCell, 0, 0, ms);
  }

  /** Makes every request `latencyMs` slower for `durationMs` (call on the thread whose event loop runs timers). */
  slow(latencyMs: number, durationMs: number): void {
    Atomics.store(this.words, 0, Math.max(0, Math.round(latencyMs)));
    if (this.clearTimer) clearTimeout(this.clearTimer);
    this.clearTimer = setTimeout(() => Atomics.store(this.words, 0, 0), durationMs);
  }
}

/** Blocks this thread's event loop for good: no more heartbeats, no more answers, process alive (the `hang` fault). */
function hangForever(): never {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0);
}

/**
 * Allocates and touches memory in 16 MiB steps, one step per event-loop turn (so heartbeats go on, like a leaking
 * service that still serves), until the pool's memory limit has the kernel kill this process. If it is still alive past
 * `limitBytes` plus a margin (no pool enforces a limit), it frees everything and exits with OOM_UNENFORCED_EXIT_CODE.
 */
function exhaustMemory(limitBytes: number, log: Logger): void {
  const step = 16 * 1024 * 1024;
  const ceiling = limitBytes + 256 * 1024 * 1024;
  const hold: Uint8Array[] = [];
  const grow = (): void => {
    if (hold.length * step >= ceiling) {
      log.warn("oom fault: allocated past the tenant memory limit and was not killed; no pool enforces it", { allocatedBytes: ceiling });
      hold.length = 0;
      process.exit(OOM_UNENFORCED_EXIT_CODE);
    }
    const chunk = new Uint8Array(step);
    chunk.fill(1);
    hold.push(chunk);
    setImmediate(grow);
  };
  grow();
}

/** Carries out one in-process fault order. */
export function applyFault(order: Extract<ToService, { type: "fault" }>, state: FaultState, log: Logger): void {
  log.warn("fault injected", { fault: order.kind, ...order });
  switch (order.kind) {
    case "hang":
      return hangForever();
    case "slow":
      return state.slow(order.latencyMs ?? 50, order.durationMs ?? 5000);
    case "oom":
      return exhaustMemory(order.limitBytes ?? 1024 ** 3, log);
    case "exit":
      return process.exit(order.code ?? CRASH_EXIT_CODE);
  }
}
