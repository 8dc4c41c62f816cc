/**
 * A client process for the directory-stream tests: registers, opens `streams` directory streams of /m0 (each read
 * once), says how many it holds and whether the next one was refused, then waits to be killed.
 */
import { constants } from "node:fs";
import { DanausClient } from "../../../../shims/ts/client.ts";
import { commandLines, dieWithParent, say } from "./helpers.ts";

const { socket, streams } = JSON.parse(process.argv[2]!) as { socket: string; streams: number };
await dieWithParent();
const client = DanausClient.connect({ socket });
const open = () => client.open("/m0", constants.O_RDONLY | constants.O_DIRECTORY);
let held = 0;
for (; held < streams; held++) client.readdirBatch(open(), 0);
let next = "opened";
try {
  open();
} catch (error) {
  next = (error as { code?: string }).code ?? String(error);
}
say({ held, next });
await commandLines(() => undefined);
