/**
 * A hostile client process for the buffer-race test: registers like any client, then, while a Worker of its own keeps
 * rewriting its request buffer (ASCII, then multi-byte UTF-8, then ASCII, ...), sends `requests` path requests (stat,
 * open, rename) whose window is that buffer. Prints one JSON report line: answers by errno name.
 */
import * as v from "valibot";
import { BlockingUnixSocket } from "../../../../kernel/sys/unix-socket.ts";
import { errnoName, OPCODE } from "../../../../kernel/ipc/protocol/index.ts";
import { RegistrationReplySchema } from "../../../../kernel/ipc/server/index.ts";
import { Region } from "../../../../kernel/ipc/ring/index.ts";
import { dieWithParent, say } from "./helpers.ts";
import { RawRing } from "./raw-ring.ts";

declare const self: Worker;

if (Bun.isMainThread) {
  const { socket, requests } = JSON.parse(process.argv[2]!) as { socket: string; requests: number };
  await dieWithParent();
  const registration = BlockingUnixSocket.connect(socket);
  registration.write(JSON.stringify({ op: "register", pid: process.pid, cpu: 0 }) + "\n");
  const reply = v.parse(RegistrationReplySchema, JSON.parse(registration.readLine(5000)));
  if (!reply.ok || !("client" in reply)) throw new Error(`registration refused: ${JSON.stringify(reply)}`);
  const region = Region.open(reply.region);
  const flipper = new Worker(import.meta.url);
  const running = new Int32Array(new SharedArrayBuffer(4));
  flipper.postMessage({ address: region.address, buffer: reply.buffer, running: running.buffer });
  while (Atomics.load(running, 0) === 0) await Bun.sleep(1);

  const rings = Array.from({ length: reply.queueCount }, (_, q) => new RawRing(region, q));
  const answers: Record<string, number> = {};
  const opcodes = [OPCODE.stat, OPCODE.lstat, OPCODE.open, OPCODE.rename, OPCODE.access];
  for (let i = 0; i < requests; i++) {
    const ring = rings[i % rings.length]!;
    const { result } = ring.call({ opcode: opcodes[i % opcodes.length]!, client: reply.client, buffer: reply.buffer, offset: 0, length: 3 * 4096, args: [0, 0, 0] }, 60_000);
    const name = result >= 0 ? "ok" : (errnoName(result) ?? `errno ${-result}`);
    answers[name] = (answers[name] ?? 0) + 1;
  }
  say({ requests, answers });
  process.exit(0);
} else {
  self.onmessage = (event: MessageEvent<{ address: number; buffer: number; running: SharedArrayBuffer }>) => {
    const bytes = Region.attach(event.data.address).buffer(event.data.buffer);
    Atomics.store(new Int32Array(event.data.running), 0, 1);
    const euro = [0xe2, 0x82, 0xac];
    for (let round = 0; ; round++) {
      // Names of up to ~4000 bytes with a NUL at varying places, switching between one- and three-byte characters.
      const end = 1000 + (round % 3000);
      if (round & 1) bytes.fill(0x61, 0, end);
      else for (let i = 0; i + 3 <= end; i += 3) bytes.set(euro, i);
      bytes[end] = 0;
      bytes[end + 1] = 0x62;
      bytes[end + 2] = 0;
    }
  };
}
