/**
 * @module gc-pacer — garbage collection for a thread whose serving loop never returns to its event loop (a ring
 * service thread, a FUSE serving Worker). JSC sweeps and schedules full collections from run-loop timers, so such a
 * loop kept every request's garbage: the data path grew ~17 MB/s under fio and the tenant was OOM-killed. Measured
 * here: `Bun.gc(false)` costs 20–30 µs in a Worker, so one every {@link DEFAULT_GC_EVERY} requests is below 0.1% of a
 * core at 15 k requests/s, and it kept RSS flat.
 */

/** Requests between two collections by default (~1 MiB of per-request garbage at ~1 KiB each). */
export const DEFAULT_GC_EVERY = 1024;

/** Counts served requests and collects every `every` of them, and once more when the loop goes idle. */
export class GcPacer {
  private count = 0;
  private sinceIdle = 0;

  /** @param every requests between two collections (≥ 1). */
  constructor(readonly every = DEFAULT_GC_EVERY) {
    if (!Number.isInteger(every) || every < 1) throw new RangeError(`gc pacing ${every} is not a positive integer`);
  }

  /** One request was served: collects (a quick, mostly young-generation collection) every `every` requests. */
  served(): void {
    this.sinceIdle++;
    if (++this.count < this.every) return;
    this.count = 0;
    Bun.gc(false);
  }

  /** The loop found nothing to do: after any request since the last idle collection, a full one, so idle RSS returns. */
  idle(): void {
    if (this.sinceIdle === 0) return;
    this.sinceIdle = 0;
    this.count = 0;
    Bun.gc(true);
  }
}
