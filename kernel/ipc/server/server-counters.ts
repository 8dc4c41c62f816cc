/**
 * @module server-counters — what a ring server's threads have done, in one SharedArrayBuffer the server reads for its
 * status: bytes moved by reference and copied inside the service, requests answered, and the time spent answering them.
 *
 * The time is wall time from taking a request to completing it, so a thread that passes a request down a channel counts
 * the time it waited for the process below too: in a split topology the front's time per request minus union's is what
 * the front and the crossing to union cost (bench ipc prints it per process). A ring service thread adds requests and
 * time in batches ({@link ServiceTimer}), so a request costs two clock reads and no shared write; fuse-legacy's serving
 * Workers use the same counters and flush after every request, since their next read of the device may block for good.
 */

/** The counters, as indices of the shared i64s. */
export const COUNTER = {
  /** Bytes read or written in place in the applications' region (`*_ref` requests). */
  referencedBytes: 0,
  /** Bytes copied between two files inside the service (`copy_range`). */
  copiedBytes: 1,
  /** Requests answered (an errno included). */
  requests: 2,
  /** Microseconds from taking those requests to completing them. */
  busyMicros: 3,
} as const;

export type CounterName = keyof typeof COUNTER;

const COUNTERS = Object.keys(COUNTER).length;

/** A view of a server's counters; any thread may add, the server reads. */
export class ServerCounters {
  private readonly words: BigInt64Array;

  /** @param shared from {@link ServerCounters.allocate} (a fresh one when omitted). */
  constructor(readonly shared: SharedArrayBuffer = ServerCounters.allocate()) {
    this.words = new BigInt64Array(shared);
  }

  /** A buffer for the counters, all zero. */
  static allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(COUNTERS * 8);
  }

  add(counter: CounterName, amount: number): void {
    Atomics.add(this.words, COUNTER[counter], BigInt(amount));
  }

  read(counter: CounterName): number {
    return Number(Atomics.load(this.words, COUNTER[counter]));
  }
}

/** Requests a thread answers between two additions to the shared counters (at most ~64 requests' time unpublished). */
const FLUSH_EVERY = 64;

/** One service thread's request timer: times each request and adds them to the server's counters in batches. */
export class ServiceTimer {
  private requests = 0;
  private busyMs = 0;

  constructor(private readonly counters: ServerCounters) {}

  /** A request taken at `startedAt` (a `performance.now()` time) has been answered. */
  answered(startedAt: number): void {
    this.busyMs += performance.now() - startedAt;
    if (++this.requests >= FLUSH_EVERY) this.flush();
  }

  /** Adds what was timed since the last flush to the shared counters (the thread calls it when idle and on exit). */
  flush(): void {
    if (this.requests === 0) return;
    const micros = Math.round(this.busyMs * 1000);
    this.counters.add("requests", this.requests);
    this.counters.add("busyMicros", micros);
    this.requests = 0;
    this.busyMs -= micros / 1000;
  }
}
