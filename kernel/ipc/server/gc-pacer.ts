/**
 * @module gc-pacer — garbage collection for a thread whose serving loop never returns to its event loop (a ring
 * service thread, a FUSE serving Worker). JSC sweeps and schedules full collections from run-loop timers, so such a
 * loop kept every request's garbage: under fio the data path grew ~17 MB/s until the tenant was OOM-killed.
 *
 * Two measured facts shape it (Bun 1.4, in a Worker): `Bun.gc(false)` costs 20–30 µs and frees plain objects, but
 * not the backing stores of `TextEncoder.encode` / `Buffer.from` results (5 s of encodes: 45 MB kept after eden
 * collections, 7 MB after full ones); `Bun.gc(true)` frees those and costs ~7 ms. So: a quick collection every
 * {@link DEFAULT_GC_EVERY} requests, and a full one whenever the process's RSS has grown {@link FULL_GC_GROWTH} bytes
 * over its mark (read every {@link RSS_CHECK_EVERY} requests, ~10 µs a read), and when the loop goes idle above it.
 */

/** Requests between two quick collections by default (~1 MiB of per-request garbage at ~1 KiB each). */
export const DEFAULT_GC_EVERY = 1024;
/** RSS growth over the mark that triggers a full collection: a thread's garbage never holds more for long. */
export const FULL_GC_GROWTH = 16 * 1024 * 1024;
/** Requests between two reads of the RSS. */
const RSS_CHECK_EVERY = 256;
/** RSS growth over the mark that an idle loop gives back with a full collection (less is not worth ~7 ms). */
const IDLE_GROWTH = 4 * 1024 * 1024;

/** Counts served requests and collects the thread's garbage as described in the module comment. */
export class GcPacer {
  private count = 0;
  private untilCheck = RSS_CHECK_EVERY;
  private sinceIdle = 0;
  /** The RSS after the last full collection, or the lowest seen since (it falls when freed pages go back). */
  private mark = process.memoryUsage.rss();

  /** @param every requests between two quick collections (≥ 1). */
  constructor(readonly every = DEFAULT_GC_EVERY) {
    if (!Number.isInteger(every) || every < 1) throw new RangeError(`gc pacing ${every} is not a positive integer`);
  }

  /**
   * A request was served; `weight` counts it as that many (a FUSE READDIRPLUS of 32 KiB makes ~190 calls into the
   * FileSystem, so it weighs as much as ~190 plain requests).
   */
  served(weight = 1): void {
    this.sinceIdle += weight;
    this.count += weight;
    this.untilCheck -= weight;
    if (this.untilCheck <= 0) {
      this.untilCheck = RSS_CHECK_EVERY;
      const rss = process.memoryUsage.rss();
      if (rss > this.mark + FULL_GC_GROWTH) return this.full();
      if (rss < this.mark) this.mark = rss;
    }
    if (this.count >= this.every) {
      this.count = 0;
      Bun.gc(false);
    }
  }

  /**
   * The loop found nothing to do: after requests since the last idle check, a full collection if the RSS grew
   * {@link IDLE_GROWTH} over its mark, so idle RSS returns near where it was (a trickle of requests costs no more).
   */
  idle(): void {
    if (this.sinceIdle === 0) return;
    this.sinceIdle = 0;
    if (process.memoryUsage.rss() > this.mark + IDLE_GROWTH) this.full();
  }

  private full(): void {
    Bun.gc(true);
    this.count = 0;
    this.untilCheck = RSS_CHECK_EVERY;
    this.sinceIdle = 0;
    this.mark = process.memoryUsage.rss();
  }
}
