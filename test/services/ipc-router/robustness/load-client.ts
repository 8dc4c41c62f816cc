/**
 * A load client process for the back-pressure and service-thread tests: connects, says {ready}, and on "go" makes
 * `requests` ring requests on its own file (a pwrite of a 64-byte record, then a pread of it, alternately; 0 = until
 * the stop file appears, at least one pair), checking every result and every byte, on `<mount>/load-<id>` (mount
 * default /m0). Prints one report line and exits.
 */
import { existsSync } from "node:fs";
import { constants } from "node:fs";
import { DanausClient } from "../../../../shims/ts/client.ts";
import type { QueueStats } from "../../../../kernel/ipc/ring/index.ts";
import { commandLines, dieWithParent, say } from "./helpers.ts";

/** What a load client reports. */
export interface LoadReport {
  id: number;
  requests: number;
  /** Results or bytes that were not what they should be (empty when all is well). */
  wrong: string[];
  /** Submissions that found the queue full and waited (from this client's queue handle). */
  fullWaits: number;
}

const RECORD = 64;
const { socket, id, requests, stopFile, mount = "/m0" } = JSON.parse(process.argv[2]!) as { socket: string; id: number; requests: number; stopFile?: string; mount?: string };
await dieWithParent();
const client = DanausClient.connect({ socket });
const path = `${mount}/load-${id}`;
const fd = client.open(path, constants.O_CREAT | constants.O_RDWR | constants.O_TRUNC, 0o600);
say({ ready: id });

function record(n: number): Uint8Array {
  const bytes = new Uint8Array(RECORD);
  for (let i = 0; i < RECORD; i++) bytes[i] = (id * 31 + n * 7 + i) & 0xff;
  return bytes;
}

await commandLines((line) => {
  if (line !== "go") return;
  const report: LoadReport = { id, requests: 0, wrong: [], fullWaits: 0 };
  const back = new Uint8Array(RECORD);
  // With a stop file, the first pair is always made: a busy machine may create the file before this loop runs, and a
  // client that made no request would prove nothing about the queue.
  for (let n = 0; requests === 0 ? n === 0 || !existsSync(stopFile!) : report.requests < requests; n++) {
    const data = record(n);
    const offset = (n % 1024) * RECORD;
    const written = client.pwrite(fd, data, offset);
    report.requests++;
    if (written !== RECORD) report.wrong.push(`pwrite ${n} returned ${written}`);
    back.fill(0);
    const read = client.pread(fd, back, offset);
    report.requests++;
    if (read !== RECORD || Buffer.compare(back, data) !== 0) report.wrong.push(`pread ${n} returned ${read} bytes ${Buffer.from(back).toString("hex", 0, 8)}…`);
    if (report.wrong.length > 10) break;
  }
  // The queue handle's own counters (test-only look inside: the client does not expose them).
  const internals = client as unknown as { connection: { queue: { stats: QueueStats } } };
  report.fullWaits = internals.connection.queue.stats.fullWaits;
  client.close(fd);
  say(report);
  client.disconnect();
  process.exit(0);
});
