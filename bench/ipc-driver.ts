/** @module ipc-driver — the measured loops of `bench ipc`, the same for every transport (run in the main thread or a Worker). */
import { constants } from "node:fs";
import { pinThread } from "../kernel/sys/libc.ts";
import { streamSocketPath } from "../services/ipc-router/index.ts";
import { OPCODE } from "../kernel/ipc/protocol/index.ts";
import { Connection, RingFileSystem, StreamTransport, type Transport } from "../shims/ts/index.ts";
import { nodeFs, type BenchFs } from "./node-fs.ts";

/** Which path a driver measures. */
export type Via = "ring" | "socket" | "node:fs";

/** One measurement request. */
export interface DriveRequest {
  via: Via;
  test: "null" | "read4k" | "write4k" | "read1m" | "write1m" | "meta";
  /** Run for this long (ms). */
  durationMs: number;
  /** Keep per-operation latencies (µs) for percentiles. */
  sample: boolean;
  runDir: string;
  backendDir: string;
  cpu: number;
  /** File name private to this driver. */
  tag: string;
}

/** What a driver measured. */
export interface DriveResult {
  /** Operations measured (after the warm-up). */
  ops: number;
  /** Operations of the warm-up before them. */
  warmupOps: number;
  bytes: number;
  seconds: number;
  latenciesUs: number[];
}

const FILE_BYTES = 64 * 1024 * 1024;

/** Runs one measurement. */
export function drive(request: DriveRequest): DriveResult {
  pinThread([request.cpu]);
  let transport: Transport | null = null;
  let fs: BenchFs;
  if (request.via === "node:fs") fs = nodeFs(request.backendDir);
  else {
    transport = request.via === "ring" ? Connection.open(`${request.runDir}/router.sock`) : StreamTransport.open(streamSocketPath(request.runDir));
    fs = new RingFileSystem(transport, transport.mounts[0]!.id);
  }
  const latencies: number[] = [];
  let ops = 0;
  let bytes = 0;
  const file = `/bench-${request.tag}`;
  const { O_CREAT, O_RDWR } = constants;
  const block = new Uint8Array(request.test.endsWith("1m") ? 1 << 20 : 4096).fill(7);
  let fd = -1;
  if (request.test !== "null" && request.test !== "meta") {
    fd = fs.open(file, O_CREAT | O_RDWR, 0o644);
    // A cached 64 MiB file: written once so reads hit the page cache.
    const chunk = new Uint8Array(1 << 20).fill(1);
    for (let at = 0; at < FILE_BYTES; at += chunk.length) fs.pwrite(fd, chunk, at);
  }
  const blocks = FILE_BYTES / block.length;
  let op: () => void;
  switch (request.test) {
    case "null":
      op = () => transport!.call(OPCODE.null, [], 0, "null");
      break;
    case "read4k":
    case "read1m":
      op = () => {
        bytes += fs.pread(fd, block, ((ops * 7919) % blocks) * block.length);
      };
      break;
    case "write4k":
    case "write1m":
      op = () => {
        bytes += fs.pwrite(fd, block, ((ops * 7919) % blocks) * block.length);
      };
      break;
    case "meta":
      op = () => {
        const name = `${file}-${ops}`;
        fs.close(fs.open(name, O_CREAT | O_RDWR, 0o644));
        fs.stat(name);
        fs.unlink(name);
      };
      break;
  }
  // Warm up (JIT, spin budgets, page cache) for a tenth of the time.
  const warmEnd = performance.now() + request.durationMs / 10;
  let warmupOps = 0;
  for (; performance.now() < warmEnd; warmupOps++) op();
  ops = 0;
  bytes = 0;
  const started = performance.now();
  const end = started + request.durationMs;
  if (request.sample) {
    while (performance.now() < end) {
      const t = performance.now();
      op();
      latencies.push((performance.now() - t) * 1000);
      ops++;
    }
  } else {
    for (let now = started; now < end; now = performance.now()) {
      for (let i = 0; i < 64; i++) {
        op();
        ops++;
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  if (fd >= 0) {
    fs.close(fd);
    fs.unlink(file);
  }
  transport?.close();
  return { ops, warmupOps, bytes, seconds, latenciesUs: latencies };
}
