/** @module client — sends one request to the supervisor's control socket and returns its validated reply. */
import * as v from "valibot";
import { type Reply, ReplySchema, type Request } from "./protocol.ts";

/** The supervisor could not be reached or answered something that is not a reply. */
export class ControlUnreachableError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`cannot talk to the supervisor at ${path}: ${reason}`);
    this.name = "ControlUnreachableError";
  }
}

/** Sends `request` (one JSON line) and resolves with the reply. Throws ControlUnreachableError on connection trouble or timeout. */
export async function request(path: string, body: Request | Record<string, unknown>, timeoutMs = 30_000): Promise<Reply> {
  let buffered = "";
  let settle: (reply: Reply | Error) => void = () => {};
  const done = new Promise<Reply | Error>((resolve) => (settle = resolve));
  let socket;
  try {
    socket = await Bun.connect({
      unix: path,
      socket: {
        data(_socket, chunk) {
          buffered += chunk.toString();
          const newline = buffered.indexOf("\n");
          if (newline < 0) return;
          try {
            const parsed = v.safeParse(ReplySchema, JSON.parse(buffered.slice(0, newline)));
            settle(parsed.success ? parsed.output : new ControlUnreachableError(path, "malformed reply"));
          } catch {
            settle(new ControlUnreachableError(path, "reply is not JSON"));
          }
        },
        close() {
          settle(new ControlUnreachableError(path, "connection closed before a reply"));
        },
        error(_socket, error) {
          settle(new ControlUnreachableError(path, error.message));
        },
      },
    });
  } catch (error) {
    throw new ControlUnreachableError(path, `${(error as Error).message} (is the supervisor running?)`);
  }
  socket.write(JSON.stringify(body) + "\n");
  const timer = setTimeout(() => settle(new ControlUnreachableError(path, `no reply within ${timeoutMs} ms`)), timeoutMs);
  const outcome = await done;
  clearTimeout(timer);
  socket.end();
  if (outcome instanceof Error) throw outcome;
  return outcome;
}
