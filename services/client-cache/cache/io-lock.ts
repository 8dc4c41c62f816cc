/**
 * @module io-lock — the per-file I/O lock: serialises what must not interleave on one backend file across threads
 * (write-backs of its blocks, truncates, write-through in "sync" mode, O_TRUNC opens), and is held across that
 * backend I/O — unlike the cache mutex. Re-entrant within a thread. A thread holding one file's I/O lock only ever
 * tries (never waits for) another's, so two threads cannot deadlock on them.
 */
import { F } from "./layout.ts";
import type { CacheMemory } from "./memory.ts";
import { lock, tryLock, unlock } from "./mutex.ts";

/** One thread's I/O locks on one cache. */
export class IoLocks {
  /** File slot → how many times this thread holds its lock. */
  private readonly held = new Map<number, number>();

  constructor(private readonly memory: CacheMemory) {}

  /**
   * Takes the I/O lock of file slot `file` (the caller keeps the slot alive: an open handle or a reference). With
   * `wait` false, or while this thread holds another file's lock, only tries: returns false when someone else has it.
   */
  acquire(file: number, wait: boolean): boolean {
    const depth = this.held.get(file);
    if (depth !== undefined) {
      this.held.set(file, depth + 1);
      return true;
    }
    const word = this.memory.f(file) + F.IO_LOCK;
    if (wait && this.held.size === 0) lock(this.memory.i32, word);
    else if (!tryLock(this.memory.i32, word)) return false;
    this.held.set(file, 1);
    return true;
  }

  /** Releases one hold of file slot `file`'s I/O lock. */
  release(file: number): void {
    const depth = this.held.get(file) ?? 0;
    if (depth > 1) {
      this.held.set(file, depth - 1);
      return;
    }
    this.held.delete(file);
    unlock(this.memory.i32, this.memory.f(file) + F.IO_LOCK);
  }

  /** True when this thread holds file slot `file`'s I/O lock. */
  holds(file: number): boolean {
    return this.held.has(file);
  }
}
