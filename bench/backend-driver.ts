/** @module backend-driver — the measured loops of `bench backend`, the same for every target (danaus through its client, or node:fs on a peer's mount). */
import { constants } from "node:fs";
import type { BenchFs } from "./node-fs.ts";

const { O_CREAT, O_RDWR, O_TRUNC, O_WRONLY, O_RDONLY } = constants;
const MiB = 1 << 20;

/** Bytes per second of a timed run. */
export interface Throughput {
  bytes: number;
  seconds: number;
  mbPerSec: number;
}

function throughput(bytes: number, started: number): Throughput {
  const seconds = (performance.now() - started) / 1000;
  return { bytes, seconds: +seconds.toFixed(3), mbPerSec: Math.round(bytes / seconds / 1e6) };
}

/**
 * Writes `bytes` sequentially in 1 MiB blocks to a new file, then fsyncs and closes it. Two timings: until the last
 * write returned (what an application waits for), and until the fsync returned (the data is on the OSDs).
 */
export function sequentialWrite(fs: BenchFs, path: string, bytes: number): { written: Throughput; synced: Throughput } {
  const block = new Uint8Array(MiB);
  for (let i = 0; i < block.length; i += 4096) block[i] = (i / 4096) & 0xff;
  const started = performance.now();
  const fd = fs.open(path, O_CREAT | O_TRUNC | O_WRONLY, 0o644);
  for (let at = 0; at < bytes; at += MiB) {
    block[0] = at / MiB;
    if (fs.pwrite(fd, block, at) !== MiB) throw new Error(`short write at ${at}`);
  }
  const written = throughput(bytes, started);
  fs.fsync(fd);
  const synced = throughput(bytes, started);
  fs.close(fd);
  return { written, synced };
}

/** Reads a whole file sequentially in 1 MiB blocks; checks the first byte of each block against the writer's pattern. */
export function sequentialRead(fs: BenchFs, path: string, bytes: number): Throughput {
  const block = new Uint8Array(MiB);
  const started = performance.now();
  const fd = fs.open(path, O_RDONLY, 0);
  let total = 0;
  for (let at = 0; at < bytes; at += MiB) {
    const n = fs.pread(fd, block, at);
    if (n !== MiB || block[0] !== ((at / MiB) & 0xff)) throw new Error(`bad read at ${at}: ${n} bytes, first byte ${block[0]}`);
    total += n;
  }
  fs.close(fd);
  return throughput(total, started);
}

/** Creates `files` files of `fileBytes` each under `dir` (already existing), fsynced. */
export function makeFileSet(fs: BenchFs, prefix: string, files: number, fileBytes: number): string[] {
  const paths: string[] = [];
  const block = new Uint8Array(MiB).fill(3);
  for (let f = 0; f < files; f++) {
    const path = `${prefix}-${f}`;
    const fd = fs.open(path, O_CREAT | O_TRUNC | O_RDWR, 0o644);
    for (let at = 0; at < fileBytes; at += MiB) fs.pwrite(fd, block.subarray(0, Math.min(MiB, fileBytes - at)), at);
    fs.fsync(fd);
    fs.close(fd);
    paths.push(path);
  }
  return paths;
}

/** Operations per second of a timed run. */
export interface Rate {
  ops: number;
  seconds: number;
  opsPerSec: number;
}

function rate(ops: number, started: number): Rate {
  const seconds = (performance.now() - started) / 1000;
  return { ops, seconds: +seconds.toFixed(3), opsPerSec: Math.round(ops / seconds) };
}

/**
 * 4 KiB random reads and writes, half each, over a file set (like Filebench's fileserver I/O mix), for `durationMs`.
 * A deterministic xorshift picks file, offset and direction, so every target gets the same sequence.
 */
export function randomReadWrite(fs: BenchFs, paths: string[], fileBytes: number, durationMs: number): Rate {
  const fds = paths.map((p) => fs.open(p, O_RDWR, 0));
  const block = new Uint8Array(4096).fill(9);
  const blocks = fileBytes / 4096;
  let x = 0x2545f491;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  let ops = 0;
  const started = performance.now();
  const end = started + durationMs;
  while (performance.now() < end) {
    for (let i = 0; i < 16; i++) {
      const r = next();
      const fd = fds[r % fds.length]!;
      const at = ((r >>> 8) % blocks) * 4096;
      if (r & 0x80) fs.pwrite(fd, block, at);
      else fs.pread(fd, block, at);
      ops++;
    }
  }
  const result = rate(ops, started);
  for (const fd of fds) fs.close(fd);
  return result;
}

/**
 * Runs the code of the measured jobs until a JIT has compiled it, touching little data: `writes` 4 KiB writes cycling
 * over 256 KiB of a scratch file (then fsync, a read of it, unlink) and `triples` create+close, stat, unlink. A
 * restarted danaus process runs its first thousands of requests before JavaScriptCore has compiled them, in each of its
 * processes (three in the fully split placement); the sequential jobs make only 256 requests. Without this they
 * measure how fast freshly started processes compile, not what a job costs a running tenant.
 */
export function warmCode(fs: BenchFs, prefix: string, writes: number, triples: number): void {
  const block = new Uint8Array(4096).fill(5);
  const path = `${prefix}-data`;
  const fd = fs.open(path, O_CREAT | O_TRUNC | O_RDWR, 0o644);
  for (let i = 0; i < writes; i++) fs.pwrite(fd, block, (i % 64) * 4096);
  fs.fsync(fd);
  for (let i = 0; i < 64; i++) fs.pread(fd, block, i * 4096);
  fs.close(fd);
  fs.unlink(path);
  for (let n = 0; n < triples; n++) {
    const name = `${prefix}-${n}`;
    fs.close(fs.open(name, O_CREAT | O_WRONLY, 0o644));
    fs.stat(name);
    fs.unlink(name);
  }
}

/** create+close, stat, unlink of fresh names under `prefix` for `durationMs`; counts each call as one op. */
export function metadataOps(fs: BenchFs, prefix: string, durationMs: number): Rate {
  let ops = 0;
  let n = 0;
  const started = performance.now();
  const end = started + durationMs;
  while (performance.now() < end) {
    const name = `${prefix}-${n++}`;
    fs.close(fs.open(name, O_CREAT | O_WRONLY, 0o644));
    fs.stat(name);
    fs.unlink(name);
    ops += 3;
  }
  return rate(ops, started);
}
