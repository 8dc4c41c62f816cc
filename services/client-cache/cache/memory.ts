/**
 * @module memory — one thread's views of a shared cache's buffers and the addressing of its slots, the cache mutex,
 * the attribute generation and the fill-wait word. Decoding happens through these views; everything else in the
 * cache folder reads and writes slots only through the addresses computed here.
 */
import { HDR, offsetsOf, WORDS, type CacheGeometry, type CacheOffsets, type SharedCacheData } from "./layout.ts";
import { lock, unlock } from "./mutex.ts";

/** The views of one cache in one thread. */
export class CacheMemory {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly segments: readonly Uint8Array[];
  readonly geometry: CacheGeometry;
  readonly at: CacheOffsets;
  readonly blockSize: number;
  private readonly segmentBlocks: number;

  constructor(readonly data: SharedCacheData) {
    if (data.kind !== "danaus-shared-cache") throw new TypeError("not a shared cache (create it with SharedCache.create)");
    this.geometry = data.geometry;
    this.at = offsetsOf(data.geometry);
    this.i32 = new Int32Array(data.meta, 0, this.at.int32Words);
    this.f64 = new Float64Array(data.meta, this.at.float64Byte, this.at.float64Words);
    this.segments = data.segments.map((segment) => new Uint8Array(segment));
    this.blockSize = data.geometry.blockSize;
    this.segmentBlocks = data.geometry.segmentBlocks;
  }

  /** Int32 index of block slot `slot`'s words. */
  b(slot: number): number {
    return this.at.blocks + slot * WORDS.B;
  }

  /** Float64 index of block slot `slot`'s floats. */
  bf(slot: number): number {
    return this.at.blockFloats + slot * WORDS.BF;
  }

  /** Int32 index of file slot `slot`'s words. */
  f(slot: number): number {
    return this.at.files + slot * WORDS.F;
  }

  /** Float64 index of file slot `slot`'s floats. */
  ff(slot: number): number {
    return this.at.fileFloats + slot * WORDS.FF;
  }

  /** Int32 index of handle slot `slot`'s words. */
  h(slot: number): number {
    return this.at.handles + slot * WORDS.H;
  }

  /** Float64 index of handle slot `slot`'s floats. */
  hf(slot: number): number {
    return this.at.handleFloats + slot * WORDS.HF;
  }

  /** The data segment holding block slot `slot`. */
  segmentOf(slot: number): Uint8Array {
    return this.segments[Math.floor(slot / this.segmentBlocks)]!;
  }

  /** Byte offset of block slot `slot`'s data inside {@link segmentOf}. */
  offsetOf(slot: number): number {
    return (slot % this.segmentBlocks) * this.blockSize;
  }

  /** The data of block slot `slot` as a view (no copy). */
  blockBytes(slot: number, from = 0, to = this.blockSize): Uint8Array {
    const base = this.offsetOf(slot);
    return this.segmentOf(slot).subarray(base + from, base + to);
  }

  /** Takes the cache mutex. Hold it only for table updates, never across backend I/O or large copies. */
  lock(): void {
    lock(this.i32, HDR.LOCK);
  }

  /** Releases the cache mutex. */
  unlock(): void {
    unlock(this.i32, HDR.LOCK);
  }

  /** The attribute generation. */
  generation(): number {
    return Atomics.load(this.i32, HDR.GEN);
  }

  /** Invalidates every thread's attribute and name cache entries. */
  bumpGeneration(): void {
    Atomics.add(this.i32, HDR.GEN, 1);
  }

  /** The fill sequence, read under the mutex before sleeping in {@link waitForFill}. */
  fillSequence(): number {
    return Atomics.load(this.i32, HDR.FILL_SEQ);
  }

  /** Sleeps until some fill ends after `sequence` was read (or a short timeout: the caller looks again anyway). */
  waitForFill(sequence: number): void {
    Atomics.wait(this.i32, HDR.FILL_SEQ, sequence, 20);
  }

  /** Wakes the threads waiting for a fill to end. */
  fillEnded(): void {
    Atomics.add(this.i32, HDR.FILL_SEQ, 1);
    Atomics.notify(this.i32, HDR.FILL_SEQ);
  }
}
