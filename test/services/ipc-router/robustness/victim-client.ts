/**
 * A client process for the killed-mid-request tests: registers, opens `files` files and says so; on "go <op>" it says
 * "calling" and issues one request (`open` of a new file, or a `pread` that fills its whole buffer), which the test has
 * made slow; the test SIGKILLs it while that request is in flight.
 */
import { constants } from "node:fs";
import { DanausClient } from "../../../../shims/ts/client.ts";
import { commandLines, dieWithParent, say } from "./helpers.ts";

const { socket, files } = JSON.parse(process.argv[2]!) as { socket: string; files: number };
await dieWithParent();
const client = DanausClient.connect({ socket });
const fds: number[] = [];
for (let i = 0; i < files; i++) {
  const fd = client.open(`/m0/victim-${process.pid}-${i}`, constants.O_CREAT | constants.O_RDWR, 0o600);
  client.write(fd, new Uint8Array(256 * 1024).fill(i + 1));
  fds.push(fd);
}
say({ opened: fds.length, client: (client as unknown as { connection: { client: number } }).connection.client });

await commandLines((line) => {
  const [command, op] = line.split(" ");
  if (command !== "go") return;
  say({ calling: op });
  if (op === "open") client.open(`/m0/victim-${process.pid}-late`, constants.O_CREAT | constants.O_RDWR, 0o600);
  else client.pread(fds[0]!, new Uint8Array(256 * 1024), 0);
  say({ returned: op });
});
