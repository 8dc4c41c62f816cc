/**
 * @module read-ahead — sequential read detection for one thread: a handle read where its previous read ended (or
 * from offset 0) is a stream, and a miss of a stream fills a window beyond the request in the same backend read,
 * doubling up to a limit while the stream lasts (like Linux's readahead). One larger backend read spans several
 * Ceph objects, which the OSDs serve in parallel, where a block at a time would wait for each in turn.
 */

interface Stream {
  next: number;
  window: number;
}

/** Streams tracked per thread before the table is reset (a handle closed without notice must not leak). */
const MAX_STREAMS = 4096;

/** One thread's read-ahead state, keyed by the cache's handle slot. */
export class ReadAhead {
  private readonly streams = new Map<number, Stream>();

  /** @param maxBytes the largest window (0 turns read-ahead off) */
  constructor(readonly maxBytes: number) {}

  /** Records a read of `length` bytes at `offset` through handle `key`; returns how many bytes past it to fill on a miss. */
  next(key: number, offset: number, length: number): number {
    if (this.maxBytes === 0) return 0;
    let stream = this.streams.get(key);
    if (stream === undefined) {
      if (this.streams.size >= MAX_STREAMS) this.streams.clear();
      stream = { next: -1, window: 0 };
      this.streams.set(key, stream);
    }
    const sequential = offset === stream.next || offset === 0;
    stream.window = sequential ? Math.min(this.maxBytes, Math.max(length, stream.window * 2)) : 0;
    stream.next = offset + length;
    return stream.window;
  }

  /** Forgets handle `key` (closed). */
  forget(key: number): void {
    this.streams.delete(key);
  }
}
