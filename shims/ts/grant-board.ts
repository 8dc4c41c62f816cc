/**
 * @module grant-board — where the fuse-legacy main thread posts the current thread grants of a mount's registration
 * and its serving Workers pick them up without a message: a SharedArrayBuffer holding a generation counter and the
 * grants as JSON, written under a sequence lock (odd while being written), read without blocking.
 */
import type { ThreadGrant } from "./connection.ts";

const GENERATION = 0;
const LENGTH = 1;
const HEADER_BYTES = 8;
/** Room for the grants of the most serving Workers a mount may have, each with the tenant's mount table. */
const DEFAULT_BYTES = 1 << 20;

/** The grants of one registration, by serving Worker index; generation 0 means none posted yet. */
export interface PostedGrants {
  readonly generation: number;
  readonly grants: readonly ThreadGrant[];
}

/** One mount's board. Build it on the main thread, pass `shared` to the Workers, {@link GrantBoard.attach} it there. */
export class GrantBoard {
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;

  constructor(readonly shared: SharedArrayBuffer = new SharedArrayBuffer(DEFAULT_BYTES)) {
    this.words = new Int32Array(shared, 0, 2);
    this.bytes = new Uint8Array(shared, HEADER_BYTES);
  }

  /** The same board, seen from a serving Worker. */
  static attach(shared: SharedArrayBuffer): GrantBoard {
    return new GrantBoard(shared);
  }

  /** The generation of the grants posted last (even; 0 before the first post). Cheap: one atomic load. */
  get generation(): number {
    return Atomics.load(this.words, GENERATION) & ~1;
  }

  /** Posts `grants` as the next generation (main thread only); returns it. Throws RangeError when they do not fit. */
  post(grants: readonly ThreadGrant[]): number {
    const encoded = new TextEncoder().encode(JSON.stringify(grants));
    if (encoded.length > this.bytes.length) throw new RangeError(`grants of ${encoded.length} bytes do not fit the board (${this.bytes.length})`);
    const next = Atomics.add(this.words, GENERATION, 1) + 2;
    this.bytes.set(encoded);
    Atomics.store(this.words, LENGTH, encoded.length);
    Atomics.store(this.words, GENERATION, next);
    return next;
  }

  /** The grants posted last, read consistently (retried while a post is under way). */
  read(): PostedGrants {
    for (;;) {
      const before = Atomics.load(this.words, GENERATION);
      if (before & 1) continue;
      const length = Atomics.load(this.words, LENGTH);
      const text = new TextDecoder().decode(this.bytes.slice(0, length));
      if (Atomics.load(this.words, GENERATION) !== before) continue;
      return { generation: before, grants: before === 0 ? [] : (JSON.parse(text) as ThreadGrant[]) };
    }
  }
}
