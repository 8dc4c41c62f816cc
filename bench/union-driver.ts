/**
 * @module union-driver — the measured operations of `bench union`, the same for danaus (FileSystem calls through its
 * client) and for unionfs-fuse over ceph-fuse (node:fs calls on the mount): copy-up on append, and whole-file reads.
 */
import { constants } from "node:fs";
import { sequentialRead, type Throughput } from "./backend-driver.ts";
import type { BenchFs } from "./node-fs.ts";

const { O_APPEND, O_WRONLY } = constants;
/** Seconds of a copy-up: until the append returned (what the application waits for), and until fsync and close did. */
export interface CopyUpTimes {
  appended: number;
  synced: number;
}

/**
 * Appends `bytes` to `path`, a file of a lower branch, so the union copies it up first; fsyncs and closes it.
 * Returns the seconds from open until the append returned and until close returned, and checks that the file then
 * has `lowerBytes + bytes` bytes.
 */
export function copyUpAppend(fs: BenchFs, path: string, lowerBytes: number, bytes: number): CopyUpTimes {
  const block = new Uint8Array(bytes).fill(0x5a);
  const started = performance.now();
  const fd = fs.open(path, O_WRONLY | O_APPEND, 0);
  if (fs.pwrite(fd, block, lowerBytes) !== bytes) throw new Error(`short append to ${path}`);
  const appended = (performance.now() - started) / 1000;
  fs.fsync(fd);
  fs.close(fd);
  const synced = (performance.now() - started) / 1000;
  // node:fs answers a Stats (size), danaus a Stat (st_size).
  const stat = fs.stat(path) as { size?: number; st_size?: number };
  const after = stat.size ?? stat.st_size;
  if (after !== lowerBytes + bytes) throw new Error(`${path} has ${after} bytes after the append, expected ${lowerBytes + bytes}`);
  return { appended: +appended.toFixed(3), synced: +synced.toFixed(3) };
}

/** Reads `path` (written by sequentialWrite's pattern, `bytes` long) through each of `mounts` in turn; returns the total seconds. */
export function readThroughEach(mounts: readonly BenchFs[], path: string, bytes: number): { seconds: number; passes: Throughput[] } {
  const started = performance.now();
  const passes = mounts.map((fs) => sequentialRead(fs, path, bytes));
  return { seconds: +((performance.now() - started) / 1000).toFixed(3), passes };
}
