/** @module loop-report — what the verifying loop (verify-loop.ts) is told, and what it reports, as JSON lines. */

/** The size of every read and write of the loop. */
export const BLOCK_BYTES = 4096;

/** The loop's arguments (one JSON argument on its command line). */
export interface LoopOptions {
  /** Which path: the TypeScript client over the ring, or node:fs through the kernel (a FUSE mount). */
  readonly path: "client" | "kernel";
  /** The tenant's router socket (the client path). */
  readonly socket?: string;
  /** The directory the files go in (a mount path of the tenant). */
  readonly dir: string;
  /** File names are `<name>-<i>`. */
  readonly name: string;
  readonly files: number;
  readonly fileBytes: number;
  /** Calls per second (0: as fast as it can). */
  readonly opsPerSecond: number;
  readonly reportMs: number;
}

/** A failed call: when it started (epoch ms), which call, the errno name and message. */
export interface ErrorSample {
  at: number;
  op: string;
  file: string;
  code: string;
  message: string;
}

/** A read that found other bytes than the loop last wrote there. */
export interface VerifySample {
  at: number;
  file: string;
  block: number;
  bytes: number;
  expectedSeq: number;
  /** The last of the writes that failed since the last acknowledged one, which the block may hold instead (-1: none). */
  orSeq: number;
  /** The first two words found: (file << 20 | block) and the sequence number. */
  foundHeader: [number, number];
}

/** The calls since the previous report. */
export interface LoopReport {
  /** When it was printed (epoch ms). */
  t: number;
  final?: true;
  /** Set in the first report after the files were written whole again (the command `relayout`). */
  relaidOut?: true;
  reads: number;
  writes: number;
  errors: number;
  /** The first 50 errors of the loop's life, at most. */
  errorSamples: ErrorSample[];
  verifyFailures: number;
  verifySamples: VerifySample[];
  /** Every successful call: its start (epoch ms) and its duration (ms), in order. */
  okStart: number[];
  okMs: number[];
}
