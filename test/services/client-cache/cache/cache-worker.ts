/** @module test/services/client-cache/cache/cache-worker — a Worker with its own LocalBackend and CachedFileSystem over a shared cache, for the multi-thread tests. */
import { LocalBackend } from "../../../../services/client-cache/backend/index.ts";
import { CachedFileSystem, SharedCache, type SharedCacheData } from "../../../../services/client-cache/cache/index.ts";
import { readAll } from "../../../conformance/harness.ts";
import { CountingFs, pattern } from "./helpers.ts";

declare const self: Worker;

/** What the tests ask the worker to do. */
export type CacheWorkerRequest =
  /** Read `path` in full; reply its length, whether it equals pattern(length, seed), and the backend reads made. */
  | { kind: "read"; root: string; cache: SharedCacheData; path: string; seed: number }
  /** stat `path`; reply its size. */
  | { kind: "stat"; root: string; cache: SharedCacheData; path: string }
  /**
   * Wait until `start[0]` is 1, then write pieces `index % stride === part` of pattern(size, seed) (pieces of `piece`
   * bytes) into `path`, `rounds` times; read the file back and check those pieces; close. Reply the mismatches.
   */
  | {
      kind: "write-part";
      root: string;
      cache: SharedCacheData;
      path: string;
      size: number;
      seed: number;
      piece: number;
      part: number;
      stride: number;
      rounds: number;
      start: SharedArrayBuffer;
    };

/** The worker's answer. */
export type CacheWorkerReply =
  | { ok: true; length?: number; equal?: boolean; preads?: number; size?: number; mismatches?: number }
  | { ok: false; error: string };

function serve(request: CacheWorkerRequest): CacheWorkerReply {
  const backend = new LocalBackend(request.root);
  const counting = new CountingFs(backend);
  const fs = new CachedFileSystem(counting, SharedCache.attach(request.cache), 1);
  try {
    if (request.kind === "stat") return { ok: true, size: fs.stat(request.path).st_size };
    if (request.kind === "read") {
      const fd = fs.open(request.path, 0, 0);
      const data = readAll(fs, fd, 0);
      fs.close(fd);
      const equal = Buffer.from(data).equals(Buffer.from(pattern(data.length, request.seed)));
      return { ok: true, length: data.length, equal, preads: counting.counts.preads };
    }
    const expected = pattern(request.size, request.seed);
    const flag = new Int32Array(request.start);
    while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0, 5);
    const fd = fs.open(request.path, 0o100 | 2, 0o644);
    const pieces = Math.ceil(request.size / request.piece);
    for (let round = 0; round < request.rounds; round++) {
      for (let index = request.part; index < pieces; index += request.stride) {
        const at = index * request.piece;
        fs.pwrite(fd, expected.subarray(at, Math.min(at + request.piece, request.size)), at);
      }
    }
    const into = new Uint8Array(request.piece);
    let mismatches = 0;
    for (let index = request.part; index < pieces; index += request.stride) {
      const at = index * request.piece;
      const count = fs.pread(fd, into, at);
      if (!Buffer.from(into.subarray(0, count)).equals(Buffer.from(expected.subarray(at, at + count)))) mismatches++;
      if (count !== Math.min(request.piece, request.size - at)) mismatches++;
    }
    fs.close(fd);
    return { ok: true, mismatches };
  } catch (error) {
    return { ok: false, error: String(error) };
  } finally {
    backend.dispose();
  }
}

self.onmessage = (event: MessageEvent<CacheWorkerRequest>) => {
  self.postMessage(serve(event.data));
};
