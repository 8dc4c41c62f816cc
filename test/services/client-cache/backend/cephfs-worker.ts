/** @module test/services/client-cache/backend/cephfs-worker — a Bun Worker running its own CephBackend over a mount made by the main thread. */
import { CephBackend, type CephShared } from "../../../../services/client-cache/backend/cephfs/index.ts";
import { FsError } from "../../../../kernel/ipc/protocol/index.ts";

declare const self: Worker;

/** What the tests ask the worker to do; each request builds its own backend on `shared` at `subRoot`. */
export type CephWorkerRequest = { shared: CephShared; subRoot: string } & (
  /** Create `path` holding `content` and leave it open read-write: replies with that handle. */
  | { kind: "create"; path: string; content: string }
  /** Read `length` bytes at 0 through a handle opened by another thread; close it when `close`. */
  | { kind: "read"; handle: number; length: number; close: boolean }
  /** pwrite `count` bytes of `byte` at `offset` through a handle opened by another thread, in 4 KiB writes. */
  | { kind: "fill"; handle: number; offset: number; count: number; byte: number }
  /**
   * `rounds` times: create `prefix<i>`, write its name, read it back through a second handle, close both. Counts
   * rounds in `control[0]` (the other worker's progress is visible to the test) and reports the handle numbers seen.
   */
  | { kind: "churn"; prefix: string; rounds: number; control: SharedArrayBuffer; slot: number }
);

/** The worker's answer. */
export type CephWorkerReply =
  | { ok: true; handle?: number; text?: string; handles?: number[] }
  | { ok: false; error: string; code?: string };

const O_RDONLY = 0;
const O_RDWR = 0o2;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function serve(request: CephWorkerRequest): CephWorkerReply {
  const fs = new CephBackend(request.shared, request.subRoot);
  try {
    switch (request.kind) {
      case "create": {
        const fd = fs.open(request.path, O_CREAT | O_RDWR | O_TRUNC, 0o644);
        fs.write(fd, encoder.encode(request.content));
        return { ok: true, handle: fd };
      }
      case "read": {
        const into = new Uint8Array(request.length);
        const count = fs.pread(request.handle, into, 0);
        if (request.close) fs.close(request.handle);
        return { ok: true, text: decoder.decode(into.subarray(0, count)) };
      }
      case "fill": {
        const block = new Uint8Array(4096).fill(request.byte);
        for (let done = 0; done < request.count; done += block.length) {
          fs.pwrite(request.handle, block.subarray(0, Math.min(block.length, request.count - done)), request.offset + done);
        }
        return { ok: true };
      }
      case "churn": {
        const progress = new Int32Array(request.control);
        const seen = new Set<number>();
        for (let i = 0; i < request.rounds; i++) {
          const name = `${request.prefix}${i}`;
          const writer = fs.open(name, O_CREAT | O_RDWR | O_TRUNC, 0o644);
          const reader = fs.open(name, O_RDONLY, 0);
          seen.add(writer).add(reader);
          fs.pwrite(writer, encoder.encode(name), 0);
          const into = new Uint8Array(64);
          const text = decoder.decode(into.subarray(0, fs.pread(reader, into, 0)));
          fs.close(reader);
          fs.close(writer);
          if (text !== name) return { ok: false, error: `read back "${text}" from ${name}` };
          Atomics.add(progress, request.slot, 1);
        }
        return { ok: true, handles: [...seen].sort((a, b) => a - b) };
      }
    }
  } catch (error) {
    return { ok: false, error: String(error), code: error instanceof FsError ? error.code : undefined };
  } finally {
    fs.dispose();
  }
}

self.onmessage = (event: MessageEvent<CephWorkerRequest>) => {
  self.postMessage(serve(event.data));
};
