/** Tests for kernel/ipc/ring/queue.ts across real Bun processes: many producers and consumers, back-pressure, futex wakes. */
import { afterEach, describe, expect, test } from "bun:test";
import { ENTRY_STATE } from "../../../../kernel/ipc/protocol/entry.ts";
import { OPCODE } from "../../../../kernel/ipc/protocol/operations.ts";
import { RequestQueue, type TakenRequest } from "../../../../kernel/ipc/ring/queue.ts";
import { Region } from "../../../../kernel/ipc/ring/region.ts";
import { echoResult, STOP_OPCODE, type ConsumerReport, type ProducerReport } from "./fixtures/ring-peer.ts";
import { cleanUp, peerOutput, regionPath, spawnPeer, until } from "./fixtures/scratch.ts";

/** Hang guard for each test (not a performance threshold). */
const GUARD_MS = 120_000;
const WAIT = { timeoutMs: 60_000 };

afterEach(cleanUp);

/** Stop one consumer thread and read its report from the reply payload. */
function stopConsumer(queue: RequestQueue, region: Region, buffer: number): ConsumerReport {
  const reply = queue.call({ requestId: 0, opcode: STOP_OPCODE, client: 0, buffer, offset: 0, length: 4096, args: [] }, WAIT);
  return JSON.parse(new TextDecoder().decode(region.buffer(buffer).subarray(0, reply.replyLength))) as ConsumerReport;
}

/** Serve one request the way the echo consumer does. */
function echo(queue: RequestQueue, region: Region, taken: TakenRequest): void {
  const { request } = taken;
  const window = region.buffer(request.buffer).subarray(request.offset, request.offset + request.length);
  for (let i = 0; i < window.length; i++) window[i] = window[i]! ^ 0xff;
  queue.complete(taken.slot, echoResult(request.requestId, request.args), request.length);
}

describe("queue across processes", () => {
  test("10,000 requests from 4 producer processes through a 2-entry queue to a 2-thread consumer process: every reply matches", async () => {
    const PRODUCERS = 4;
    const PER_PRODUCER = 2_500;
    const BARRIER = PRODUCERS;
    const CONTROL = PRODUCERS + 1;
    const path = regionPath();
    const region = Region.create(path, { queueCount: 1, queueCapacity: 2, bufferCount: PRODUCERS + 2, bufferSize: 4096 });
    const consumer = spawnPeer({ role: "consumer", path, queue: 0, threads: 2 });
    const producers = Array.from({ length: PRODUCERS }, (_, p) =>
      spawnPeer({ role: "producer", path, queue: 0, buffer: p, client: p + 1, count: PER_PRODUCER, idBase: p * 1_000_000, barrierBuffer: BARRIER }));
    // Start every producer at once so they contend for the two entries.
    const barrier = region.layout.bufferOffset(BARRIER) >> 2;
    await until(() => Atomics.load(region.words, barrier) === PRODUCERS, "all producers ready");
    Atomics.store(region.words, barrier + 1, 1);

    const reports = (await Promise.all(producers.map(peerOutput))).map((out) => JSON.parse(out) as ProducerReport);
    const queue = new RequestQueue(region, 0);
    const consumers = [stopConsumer(queue, region, CONTROL), stopConsumer(queue, region, CONTROL)];
    await peerOutput(consumer);

    expect(reports.flatMap((r) => r.mismatches)).toEqual([]);
    expect(reports.map((r) => r.ok)).toEqual(new Array(PRODUCERS).fill(PER_PRODUCER));
    expect(consumers.reduce((sum, c) => sum + c.served, 0)).toBe(PRODUCERS * PER_PRODUCER);
    // The queue was full at some point (4 producers, 2 entries) and nothing was lost.
    expect(reports.reduce((sum, r) => sum + r.fullWaits, 0)).toBeGreaterThan(0);
    expect(queue.pending()).toBe(0);
    for (let slot = 0; slot < queue.capacity; slot++) expect(queue.stateOf(slot)).toBe(ENTRY_STATE.EMPTY);
  }, GUARD_MS);

  test("back-pressure: a producer process blocked on a full queue gets in once an entry frees, and is answered", async () => {
    const path = regionPath();
    const region = Region.create(path, { queueCount: 1, queueCapacity: 2, bufferCount: 2, bufferSize: 4096 });
    const queue = new RequestQueue(region, 0, { maxSpin: 0 });
    const mine = { opcode: OPCODE.null, client: 0, buffer: 0, offset: 0, length: 8, args: [1, 2, 3] };
    const first = queue.trySubmit({ ...mine, requestId: 1 });
    const second = queue.trySubmit({ ...mine, requestId: 2, offset: 64 });
    expect(queue.trySubmit({ ...mine, requestId: 3 })).toBe(-1);

    const producer = spawnPeer({ role: "producer", path, queue: 0, buffer: 1, client: 9, count: 1, idBase: 500, maxSpin: 0 });
    await until(() => queue.sleepers()[1] > 0, "the producer to sleep on the full queue");

    // Serve and collect the first request: that frees an entry and lets the producer in.
    let served = 0;
    const firstTaken = queue.take(WAIT)!;
    echo(queue, region, firstTaken);
    served++;
    queue.waitReply(firstTaken.slot === first ? first : second, WAIT);
    // Two requests remain: our second one and the producer's.
    const seen: number[] = [];
    for (let i = 0; i < 2; i++) {
      const taken = queue.take(WAIT)!;
      seen.push(taken.request.requestId);
      echo(queue, region, taken);
      served++;
    }
    const report = JSON.parse(await peerOutput(producer)) as ProducerReport;
    const remaining = firstTaken.slot === first ? second : first;
    expect(queue.waitReply(remaining, WAIT).result).toBe(echoResult(firstTaken.slot === first ? 2 : 1, mine.args));

    expect(served).toBe(3);
    expect(seen).toContain(500);
    expect(report).toMatchObject({ sent: 1, ok: 1, mismatches: [], fullWaits: 1 });
    expect(queue.pending()).toBe(0);
  }, GUARD_MS);

  test("futex wake path: the producer wakes a sleeping consumer, and the consumer wakes the sleeping producer", async () => {
    const path = regionPath();
    const region = Region.create(path, { queueCount: 1, queueCapacity: 4, bufferCount: 2, bufferSize: 4096 });
    const consumer = spawnPeer({ role: "consumer", path, queue: 0, threads: 1, maxSpin: 0, lazy: true });
    const queue = new RequestQueue(region, 0, { maxSpin: 0 });
    await until(() => queue.sleepers()[0] > 0, "the consumer to sleep on an empty queue");

    region.buffer(0).set([1, 2, 3], 0);
    const args = [4, 5, 6];
    // The lazy consumer answers only after this thread is flagged asleep on the reply.
    const reply = queue.call({ requestId: 42, opcode: OPCODE.null, client: 0, buffer: 0, offset: 0, length: 3, args }, WAIT);
    expect(reply).toEqual({ result: echoResult(42, args), replyLength: 3, requestId: 42 });
    expect([...region.buffer(0).subarray(0, 3)]).toEqual([0xfe, 0xfd, 0xfc]);
    expect(queue.stats.wakes).toBeGreaterThanOrEqual(1); // submit found the consumer flagged asleep and woke it
    expect(queue.stats.sleeps).toBeGreaterThanOrEqual(1); // this thread slept on the reply

    const report = stopConsumer(queue, region, 1);
    await peerOutput(consumer);
    expect(report.served).toBe(1);
    expect(report.wakes).toBeGreaterThanOrEqual(1); // complete found this thread flagged asleep and woke it
  }, GUARD_MS);
});
