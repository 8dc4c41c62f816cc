/** @module heartbeat — a per-tenant shared-memory file of heartbeat slots: services bump a counter, the supervisor watches it. */
import { closeSync, ftruncateSync, openSync, rmSync } from "node:fs";

/** Bytes per slot: four Int32 words. */
const SLOT_BYTES = 16;
/** Size of a heartbeat file: 4 KiB, 256 slots. */
const FILE_BYTES = 4096;
/** Number of slots in one heartbeat file. */
export const HEARTBEAT_SLOTS = FILE_BYTES / SLOT_BYTES;

const COUNTER = 0;
const MAX_GAP_MS = 1;
const PID = 2;

/** One process's slot: the counter it bumps, the longest gap between its own beats, and its pid. */
export class HeartbeatSlot {
  private readonly words: Int32Array;

  constructor(region: Uint8Array, readonly index: number) {
    if (index < 0 || index >= HEARTBEAT_SLOTS) throw new RangeError(`heartbeat slot ${index} outside 0..${HEARTBEAT_SLOTS - 1}`);
    this.words = new Int32Array(region.buffer, region.byteOffset + index * SLOT_BYTES, SLOT_BYTES / 4);
  }

  /** How many beats so far. */
  get count(): number { return Atomics.load(this.words, COUNTER); }
  /** The longest gap (ms) the service measured between two of its own consecutive beats. */
  get maxGapMs(): number { return Atomics.load(this.words, MAX_GAP_MS); }
  /** The pid that owns the slot (0 when free). */
  get pid(): number { return Atomics.load(this.words, PID); }

  /** Clears the slot for a new process. */
  reset(pid = 0): void {
    Atomics.store(this.words, COUNTER, 0);
    Atomics.store(this.words, MAX_GAP_MS, 0);
    Atomics.store(this.words, PID, pid);
  }

  /** One beat: bumps the counter and records the gap since the previous beat. */
  beat(gapMs: number): void {
    if (gapMs > Atomics.load(this.words, MAX_GAP_MS)) Atomics.store(this.words, MAX_GAP_MS, Math.min(Math.round(gapMs), 0x7fffffff));
    Atomics.add(this.words, COUNTER, 1);
  }
}

/** A mapped heartbeat file. The mapping stays for the life of the process (unmapping under live views would crash Bun). */
export class HeartbeatRegion {
  private constructor(readonly path: string, private readonly bytes: Uint8Array) {}

  /** Creates the file (mode 0600, must not exist) and maps it. Throws the fs error (e.g. EEXIST) if it cannot. */
  static create(path: string): HeartbeatRegion {
    const fd = openSync(path, "wx", 0o600);
    try {
      ftruncateSync(fd, FILE_BYTES);
    } finally {
      closeSync(fd);
    }
    return HeartbeatRegion.open(path);
  }

  /** Maps an existing heartbeat file shared (writes are seen by every process that mapped it). */
  static open(path: string): HeartbeatRegion {
    return new HeartbeatRegion(path, Bun.mmap(path, { shared: true }));
  }

  /** The view of slot `index`. */
  slot(index: number): HeartbeatSlot {
    return new HeartbeatSlot(this.bytes, index);
  }

  /** Removes the file; existing mappings keep working. */
  unlink(): void {
    rmSync(this.path, { force: true });
  }
}

/**
 * Starts beating `slot` every `intervalMs` from this thread's event loop, so a blocked loop stops the beats.
 * Returns a function that stops it.
 */
export function startBeating(slot: HeartbeatSlot, intervalMs: number): () => void {
  let last = performance.now();
  slot.beat(0);
  const timer = setInterval(() => {
    const now = performance.now();
    slot.beat(now - last);
    last = now;
  }, intervalMs);
  return () => clearInterval(timer);
}
