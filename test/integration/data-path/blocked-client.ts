/**
 * A client process for the service-death test, driven by stdin commands, one JSON answer line each:
 * `open <path>` (creates it, writes "before"; answers the private fd), `call <path>` (a stat of the path — the test
 * makes it block; answers ok or the error code and how long it took), `read <fd>` (answers the data or the error code),
 * `roundtrip <path>` (writes and reads back a file; answers ok and the connection's epoch, or the error code).
 */
import { constants } from "node:fs";
import { DanausClient } from "../../../shims/ts/client.ts";
import { commandLines, dieWithParent, say } from "../../services/ipc-router/robustness/helpers.ts";

const { socket } = JSON.parse(process.argv[2]!) as { socket: string };
await dieWithParent();
const client = DanausClient.connect({ socket });
/** Test-only look inside: the connection's client id and region epoch. */
const connection = () => (client as unknown as { connection: { client: number; epoch: number } | null }).connection;
say({ ready: true, client: connection()!.client, epoch: connection()!.epoch });

function attempt(body: () => Record<string, unknown>): Record<string, unknown> {
  const started = performance.now();
  try {
    return { ok: true, ...body(), ms: performance.now() - started };
  } catch (error) {
    return { ok: false, code: (error as { code?: string }).code ?? String(error), message: (error as Error).message, ms: performance.now() - started };
  }
}

await commandLines((line) => {
  const [command, arg] = line.split(" ") as [string, string];
  switch (command) {
    case "open":
      return say(attempt(() => {
        const fd = client.open(arg, constants.O_CREAT | constants.O_RDWR | constants.O_TRUNC, 0o600);
        client.write(fd, "before");
        return { fd };
      }));
    case "call":
      say({ calling: arg });
      return say(attempt(() => ({ size: client.stat(arg).st_size })));
    case "read":
      return say(attempt(() => {
        const into = new Uint8Array(16);
        const n = client.pread(Number(arg), into, 0);
        return { data: new TextDecoder().decode(into.subarray(0, n)) };
      }));
    case "close":
      return say(attempt(() => (client.close(Number(arg)), {})));
    case "roundtrip":
      return say(attempt(() => {
        const fd = client.open(arg, constants.O_CREAT | constants.O_RDWR | constants.O_TRUNC, 0o600);
        client.write(fd, "after");
        const into = new Uint8Array(16);
        const n = client.pread(fd, into, 0);
        client.close(fd);
        return { data: new TextDecoder().decode(into.subarray(0, n)), epoch: connection()?.epoch, client: connection()?.client };
      }));
  }
});
