import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SharedCache, cacheStats, startWriteBackThread } from "../../../../services/client-cache/cache/index.ts";
import type { CacheWorkerReply, CacheWorkerRequest } from "./cache-worker.ts";
import { cacheConfig, pattern, tempRoot } from "./helpers.ts";

function inWorker(request: CacheWorkerRequest): Promise<CacheWorkerReply> {
  const worker = new Worker(new URL("./cache-worker.ts", import.meta.url).href);
  return new Promise<CacheWorkerReply>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<CacheWorkerReply>) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(event.message));
    worker.postMessage(request);
  }).finally(() => worker.terminate());
}

for (let run = 0; run < 6; run++) {
  test(`stress ${run}`, async () => {
    const temp = tempRoot();
    const data = SharedCache.create(cacheConfig({ sizeBytes: 64 * 1024, maxDirtyBytes: 16 * 1024, blockSizeBytes: 4096, writebackMs: 3, expireMs: 2, writeback: run % 2 === 0 ? "sync" : "async" }));
    const thread = startWriteBackThread(data, { module: new URL("./local-opener.ts", import.meta.url).href, specs: { 1: { root: temp.root } } });
    await thread.ready;
    const size = 300 * 1024 + 77;
    const start = new SharedArrayBuffer(4);
    const piece = [1000, 4096, 5000, 777, 9000, 3001][run]!;
    const common = { kind: "write-part", root: temp.root, cache: data, path: "f", size, seed: run, piece, stride: 4, rounds: 5, start } as const;
    const replies = Promise.all([0, 1, 2, 3].map((part) => inWorker({ ...common, part })));
    await Bun.sleep(80);
    Atomics.store(new Int32Array(start), 0, 1);
    Atomics.notify(new Int32Array(start), 0);
    const got = await replies;
    await thread.stop();
    for (const reply of got) expect(reply).toEqual({ ok: true, mismatches: 0 });
    expect(cacheStats(data).dirtyBytes).toBe(0);
    expect(Buffer.from(readFileSync(join(temp.root, "f"))).equals(Buffer.from(pattern(size, run)))).toBe(true);
    temp.cleanup();
  }, 30000);
}
