/**
 * Run as another uid by the isolation test: tries to open each region file (read-only and read-write) and to connect
 * to each router socket, and prints what each attempt got ("ok" or the errno name) with its own uid.
 */
import { constants, openSync, closeSync } from "node:fs";
import { BlockingUnixSocket, UnixSocketError } from "../../../kernel/sys/unix-socket.ts";
import { errnoName } from "../../../kernel/ipc/protocol/index.ts";
import { say } from "../../services/ipc-router/robustness/helpers.ts";

const { regions, sockets } = JSON.parse(process.argv[2]!) as { regions: string[]; sockets: string[] };

function tryOpen(path: string, flags: number): string {
  try {
    closeSync(openSync(path, flags));
    return "ok";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

function tryConnect(path: string): string {
  try {
    BlockingUnixSocket.connect(path).close();
    return "ok";
  } catch (error) {
    return error instanceof UnixSocketError ? (errnoName(error.errno) ?? `errno ${error.errno}`) : String(error);
  }
}

const results: Record<string, string> = {};
for (const path of regions) {
  results[`open-ro ${path}`] = tryOpen(path, constants.O_RDONLY);
  results[`open-rw ${path}`] = tryOpen(path, constants.O_RDWR);
}
for (const path of sockets) results[`connect ${path}`] = tryConnect(path);
say({ uid: process.getuid!(), results });
