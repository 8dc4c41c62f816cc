/**
 * @module relay-floor-peer — one process of {@link ../relay-floor.ts}'s chains: takes requests from its inbound ring
 * and, when it has an outbound ring, passes each one on and waits for the answer before answering. It does nothing
 * else, with the queue options the real processes use: the front as a router's service thread, the others as a
 * channel host's thread, each calling the next one as a channel client does.
 *
 * Arguments: inbound region path, outbound region path or "-", core, "front" or "hop". A request whose args[0] is 1
 * stops the chain from here on down.
 */
import { OPCODE } from "../kernel/ipc/protocol/operations.ts";
import { RequestQueue } from "../kernel/ipc/ring/queue.ts";
import { Region } from "../kernel/ipc/ring/region.ts";
import { pinThread } from "../kernel/sys/libc.ts";

const [inPath, outPath, cpuText, role] = process.argv.slice(2);
const cpu = Number(cpuText);
if (inPath === undefined || outPath === undefined || !Number.isInteger(cpu) || (role !== "front" && role !== "hop")) {
  process.stderr.write("usage: relay-floor-peer.ts IN OUT|- CPU front|hop\n");
  process.exit(2);
}
pinThread([cpu]);
const inbound = new RequestQueue(Region.open(inPath), 0, role === "front" ? { peerCpus: [cpu] } : { peerCpus: [cpu], spin: 0, takeSpinFloor: 0 });
const outbound = outPath === "-" ? null : new RequestQueue(Region.open(outPath), 0, { peerCpus: [cpu] });
process.stdout.write("ready\n");
for (;;) {
  const taken = inbound.take({ timeoutMs: 200 });
  if (taken === null) continue;
  const stop = taken.request.args[0] === 1;
  const result = outbound === null ? 0 : outbound.call({ requestId: taken.request.requestId, opcode: OPCODE.null, client: 0, buffer: 0, offset: 0, length: 0, args: stop ? [1] : [] }).result;
  inbound.complete(taken.slot, result);
  if (stop) break;
}
