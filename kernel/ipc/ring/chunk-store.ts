/**
 * @module chunk-store — byte strings of any length in shared memory, readable by every thread of a process: a pool of
 * fixed-size chunks, each string a chain of them. It holds what no fixed-size cell may bound, such as a path deeper
 * than a request window carries (kernel/ipc/server/path-stage.ts) or the path of a deep open directory (the union's
 * directory table). The pool is one SharedArrayBuffer whose pages the kernel backs only once a chunk is first written,
 * so a large pool costs memory only as far as it is used. Taking and releasing a chain hold a lock in the pool for
 * microseconds; reading and writing a chain one holds take none.
 */
import { withThreadLock } from "./thread-lock.ts";

/** A pool as plain data (passable to Workers): header and chain words, and the chunks' bytes. */
export interface ChunkPool {
  readonly words: SharedArrayBuffer;
  readonly bytes: SharedArrayBuffer;
  readonly chunkSize: number;
}

// Header words, then one "next chunk" word per chunk (-1 ends a chain).
const LOCK = 0;
/** First chunk of the free list (-1: empty). */
const FREE = 1;
/** Chunks never used yet start here (their pages untouched). */
const FRESH = 2;
/** Chunks in chains now. */
const USED = 3;
const HEADER = 4;
const END = -1;

export class ChunkStore {
  /** A pool of `chunks` chunks of `chunkSize` bytes. */
  static allocate(chunks: number, chunkSize: number): ChunkPool {
    if (!Number.isInteger(chunks) || chunks < 1 || !Number.isInteger(chunkSize) || chunkSize < 1) {
      throw new RangeError(`a chunk pool needs ≥ 1 chunk of ≥ 1 byte (asked ${chunks} × ${chunkSize})`);
    }
    const words = new SharedArrayBuffer((HEADER + chunks) * 4);
    new Int32Array(words)[FREE] = END;
    return { words, bytes: new SharedArrayBuffer(chunks * chunkSize), chunkSize };
  }

  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly chunkSize: number;
  /** Chunks in the pool. */
  readonly chunks: number;

  constructor(pool: ChunkPool) {
    this.words = new Int32Array(pool.words);
    this.bytes = new Uint8Array(pool.bytes);
    this.chunkSize = pool.chunkSize;
    this.chunks = this.words.length - HEADER;
  }

  /** Chunks in chains now. */
  get used(): number {
    return Atomics.load(this.words, USED);
  }

  /** A chain with room for `length` bytes (one chunk at least); its first chunk, or -1 when too few chunks are free. */
  take(length: number): number {
    const count = Math.max(1, Math.ceil(length / this.chunkSize));
    const w = this.words;
    return withThreadLock(w, LOCK, () => {
      if (w[USED]! + count > this.chunks) return END;
      let head = END;
      for (let i = 0; i < count; i++) {
        let chunk = w[FREE]!;
        if (chunk !== END) w[FREE] = w[HEADER + chunk]!;
        else chunk = w[FRESH]!++;
        w[HEADER + chunk] = head;
        head = chunk;
      }
      w[USED] = w[USED]! + count;
      return head;
    });
  }

  /** Gives back the chain that starts at `head` (from {@link take}). */
  release(head: number): void {
    if (head < 0 || head >= this.chunks) return;
    const w = this.words;
    withThreadLock(w, LOCK, () => {
      let chunk = head;
      let count = 1;
      while (w[HEADER + chunk] !== END) {
        chunk = w[HEADER + chunk]!;
        count++;
      }
      w[HEADER + chunk] = w[FREE]!;
      w[FREE] = head;
      w[USED] = w[USED]! - count;
    });
  }

  /** Writes `data` at byte `offset` of the chain `head`, which must hold offset + data.length bytes. */
  write(head: number, offset: number, data: Uint8Array): void {
    this.walk(head, offset, data.length, (at, from, length) => this.bytes.set(data.subarray(from, from + length), at));
  }

  /** A copy of `length` bytes at `offset` of the chain `head`. */
  read(head: number, offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.walk(head, offset, length, (at, into, count) => out.set(this.bytes.subarray(at, at + count), into));
    return out;
  }

  /** Calls `each(poolByte, stringByte, count)` for the pieces of bytes [offset, offset + length) of the chain. */
  private walk(head: number, offset: number, length: number, each: (at: number, done: number, count: number) => void): void {
    const size = this.chunkSize;
    let chunk = head;
    for (let skip = Math.floor(offset / size); skip > 0; skip--) chunk = this.next(chunk);
    let within = offset % size;
    for (let done = 0; done < length; ) {
      const count = Math.min(size - within, length - done);
      each(chunk * size + within, done, count);
      done += count;
      within = 0;
      if (done < length) chunk = this.next(chunk);
    }
  }

  private next(chunk: number): number {
    const next = this.words[HEADER + chunk]!;
    if (next === END) throw new RangeError("past the end of a chunk chain");
    return next;
  }
}
