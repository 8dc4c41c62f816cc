/** @module operation-lock — runs the supervisor's control operations one at a time per tenant, and host-wide ones alone. */

/** A queued operation; `key` null for a host-wide one. */
interface Waiting {
  key: string | null;
  run: () => void;
  refuse: (error: Error) => void;
}

/**
 * Serializes operations in the order they are asked for. A host-wide operation (exclusive) runs alone: after every
 * operation queued before it has finished, and before any queued after it starts. An operation on a key (a tenant)
 * runs when no host-wide operation and no other operation on that key runs; operations on other keys run meanwhile.
 * Nothing overtakes an earlier operation it would have to wait for.
 */
export class OperationLock {
  private readonly waiting: Waiting[] = [];
  /** Keys of the operations running now (null for a host-wide one). */
  private readonly running: (string | null)[] = [];
  private refusal: (() => Error) | null = null;
  private drained: Promise<void> | null = null;
  private idle: (() => void) | null = null;

  /** Runs `fn` alone; resolves or rejects as it does. Rejects with the refusal once the lock is closed. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.enqueue(null, fn);
  }

  /** Runs `fn` when no host-wide operation and no other operation on `key` runs; resolves or rejects as it does. */
  keyed<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.enqueue(key, fn);
  }

  /**
   * Refuses every operation not yet started, queued or asked for later, with `refusal()`; resolves once the running
   * ones have finished. Idempotent: a later call returns the first call's promise.
   */
  close(refusal: () => Error): Promise<void> {
    if (this.drained) return this.drained;
    this.refusal = refusal;
    for (const waiting of this.waiting.splice(0)) waiting.refuse(refusal());
    this.drained = new Promise((resolve) => (this.idle = resolve));
    this.pump();
    return this.drained;
  }

  private enqueue<T>(key: string | null, fn: () => Promise<T>): Promise<T> {
    if (this.refusal) return Promise.reject(this.refusal());
    return new Promise<T>((resolve, reject) => {
      const run = () => {
        Promise.resolve()
          .then(fn)
          .then(resolve, reject)
          .finally(() => {
            this.running.splice(this.running.indexOf(key), 1);
            this.pump();
          });
      };
      this.waiting.push({ key, run, refuse: reject });
      this.pump();
    });
  }

  /** Starts every waiting operation that may run now, in queue order. */
  private pump(): void {
    const blocked = new Set<string>();
    for (let i = 0; i < this.waiting.length; ) {
      const waiting = this.waiting[i]!;
      if (waiting.key === null) {
        if (i > 0 || this.running.length > 0) break;
      } else if (this.running.includes(null) || this.running.includes(waiting.key) || blocked.has(waiting.key)) {
        blocked.add(waiting.key);
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.running.push(waiting.key);
      waiting.run();
    }
    if (this.idle && this.running.length === 0) this.idle();
  }
}
