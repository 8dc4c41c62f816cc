/**
 * @module path-stage — paths longer than a request window carries, staged in pieces before the request that uses them.
 *
 * A path has no bound but memory (a FUSE mount rebuilds it from names the kernel sent one level at a time), while a
 * request window holds at most DANAUS_PATH_MAX bytes of path. A client whose paths do not fit sends them first as
 * `stage_paths` requests on the same request buffer — the request's paths exactly as a window would hold them
 * (NUL-terminated, back to back), `total` bytes in all, in pieces at increasing `offset` — and then the request itself
 * with a window whose first byte is NUL (no path is empty): the service takes the staged paths instead.
 *
 * Stages live in a {@link ChunkStore} every service thread sees (a client's two requests may be served by two
 * threads), one per request buffer, owned by the client that staged it; a request takes (and frees) its buffer's
 * stage, and a new stage on a buffer drops the one left there (a client that died between the two). The pool
 * ({@link STAGE_BYTES}) bounds the paths being staged at once in one service: past it a stage answers ENOMEM, and a
 * request whose paths alone exceed it ENAMETOOLONG. A service that never sees a deep path never touches its pages.
 */
import { ERRNO } from "../protocol/index.ts";
import { type ChunkPool, ChunkStore } from "../ring/index.ts";

/** Bytes of the stage pool's chunks (one request window's worth of path). */
const STAGE_CHUNK_BYTES = 64 * 1024;
/** Bytes of paths one service can hold staged at once: 64 MiB. */
export const STAGE_BYTES = 64 << 20;

// Words per request buffer.
/** The client that staged (as the buffer owner table holds it: an int32). */
const CLIENT = 0;
/** First chunk + 1 (0: nothing staged). */
const HEAD = 1;
const TOTAL = 2;
const FILLED = 3;
const WORDS = 4;

/** The stages of a service's request buffers, as plain data for its threads. */
export interface PathStageShared {
  readonly words: SharedArrayBuffer;
  readonly pool: ChunkPool;
}

export class PathStage {
  /** Stages for `buffers` request buffers. */
  static allocate(buffers: number): PathStageShared {
    return { words: new SharedArrayBuffer(buffers * WORDS * 4), pool: ChunkStore.allocate(STAGE_BYTES / STAGE_CHUNK_BYTES, STAGE_CHUNK_BYTES) };
  }

  private readonly words: Int32Array;
  private readonly chunks: ChunkStore;

  constructor(shared: PathStageShared) {
    this.words = new Int32Array(shared.words);
    this.chunks = new ChunkStore(shared.pool);
  }

  /**
   * Stages `piece` at `offset` of the `total` bytes of paths `client` is sending on request buffer `buffer`; offset 0
   * starts a new stage. Returns the bytes staged, or -errno: ENAMETOOLONG (total over {@link STAGE_BYTES}), ENOMEM
   * (the pool is full now), EINVAL (a piece out of order or past `total`, another client's stage; the stage is dropped).
   * A stage is claimed (its head word swapped to 0) while a thread uses it, so two requests racing on one buffer (only a
   * hostile client sends them) cannot free a chain twice or write into a freed one: the second answers EINVAL.
   */
  put(buffer: number, client: number, offset: number, total: number, piece: Uint8Array): number {
    const at = this.at(buffer);
    if (at < 0 || !Number.isSafeInteger(offset) || !Number.isSafeInteger(total)) return -ERRNO.EINVAL;
    const w = this.words;
    let head: number;
    if (offset === 0) {
      this.drop(buffer);
      if (total > STAGE_BYTES) return -ERRNO.ENAMETOOLONG;
      if (total < 1 || piece.length > total) return -ERRNO.EINVAL;
      head = this.chunks.take(total);
      if (head < 0) return -ERRNO.ENOMEM;
      w[at + CLIENT] = client | 0;
      w[at + TOTAL] = total;
    } else {
      head = Atomics.exchange(w, at + HEAD, 0) - 1;
      if (head < 0) return -ERRNO.EINVAL;
      if (w[at + CLIENT] !== (client | 0) || offset !== w[at + FILLED] || total !== w[at + TOTAL] || offset + piece.length > total) {
        this.chunks.release(head);
        return -ERRNO.EINVAL;
      }
    }
    this.chunks.write(head, offset, piece);
    w[at + FILLED] = offset + piece.length;
    Atomics.store(w, at + HEAD, head + 1);
    return piece.length;
  }

  /** Takes (and frees) the complete stage `client` left on `buffer`: its bytes, or EINVAL (a positive errno) when there is none. */
  take(buffer: number, client: number): Uint8Array | number {
    const at = this.at(buffer);
    const head = at < 0 ? -1 : Atomics.exchange(this.words, at + HEAD, 0) - 1;
    if (head < 0) return ERRNO.EINVAL;
    const w = this.words;
    try {
      return w[at + CLIENT] === (client | 0) && w[at + FILLED] === w[at + TOTAL] ? this.chunks.read(head, 0, w[at + TOTAL]!) : ERRNO.EINVAL;
    } finally {
      this.chunks.release(head);
    }
  }

  /** Frees what is staged on `buffer` (its client is gone, or a new stage starts). */
  drop(buffer: number): void {
    const at = this.at(buffer);
    const head = at < 0 ? -1 : Atomics.exchange(this.words, at + HEAD, 0) - 1;
    if (head >= 0) this.chunks.release(head);
  }

  /** The first word of `buffer`'s stage, or -1 for a buffer index out of range. */
  private at(buffer: number): number {
    return Number.isInteger(buffer) && buffer >= 0 && (buffer + 1) * WORDS <= this.words.length ? buffer * WORDS : -1;
  }

  /** Bytes of the pool in stages now (what the tests check is given back). */
  get usedBytes(): number {
    return this.chunks.used * STAGE_CHUNK_BYTES;
  }
}
