/** @module server — the supervisor's control socket: a 0600 Unix socket speaking JSON lines, one reply per request line. */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { Socket, UnixSocketListener } from "bun";
import * as v from "valibot";
import type { Logger } from "../log/index.ts";
import { listenPrivate } from "../sys/private-socket.ts";
import { ControlError, MAX_REQUEST_BYTES, type Reply, type Request, RequestSchema } from "./protocol.ts";

/** Answers one validated request; throw ControlError for a failure the client should see. */
export type Handler = (request: Request) => Promise<unknown>;

interface Connection {
  buffered: string;
  /** Replies are written in request order even when handlers finish out of order. */
  queue: Promise<void>;
}

function encode(reply: Reply): string {
  return JSON.stringify(reply) + "\n";
}

/** Raised when the socket path is in use by a live supervisor. */
export class SocketInUseError extends Error {
  constructor(readonly path: string) {
    super(`control socket ${path} is in use: another supervisor is running with this host config (stop it, or use another controlSocket)`);
    this.name = "SocketInUseError";
  }
}

async function isLive(path: string): Promise<boolean> {
  try {
    const socket = await Bun.connect({ unix: path, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

/** A running control server; `close()` stops listening and removes the socket file. */
export class ControlServer {
  private constructor(private readonly listener: UnixSocketListener<Connection>, readonly path: string) {}

  /** Listens on `path` (mode 0600). A stale socket file is replaced; a live one is a SocketInUseError. */
  static async listen(path: string, handle: Handler, log: Logger): Promise<ControlServer> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (existsSync(path)) {
      if (await isLive(path)) throw new SocketInUseError(path);
    }
    const answer = async (socket: Socket<Connection>, line: string): Promise<void> => {
      let id: number | undefined;
      let reply: Reply;
      try {
        let raw: unknown;
        try {
          raw = JSON.parse(line);
        } catch {
          throw new ControlError("EINVAL", "request is not valid JSON");
        }
        if (raw && typeof raw === "object" && typeof (raw as { id?: unknown }).id === "number") id = (raw as { id: number }).id;
        const parsed = v.safeParse(RequestSchema, raw);
        if (!parsed.success) {
          const issue = parsed.issues[0];
          const where = v.getDotPath(issue);
          throw new ControlError("EINVAL", `invalid request${where ? ` field ${where}` : ""}: ${issue.message}`);
        }
        reply = { id, ok: true, result: await handle(parsed.output) };
      } catch (error) {
        const code = error instanceof ControlError ? error.code : "EIO";
        if (!(error instanceof ControlError)) log.error("control handler failed", { error });
        reply = { id, ok: false, error: { code, message: (error as Error).message } };
      }
      socket.write(encode(reply));
    };
    const listener = listenPrivate<Connection>(path, {
      open(socket) {
        socket.data = { buffered: "", queue: Promise.resolve() };
      },
      data(socket, chunk) {
        const state = socket.data;
        state.buffered += chunk.toString();
        let newline: number;
        while ((newline = state.buffered.indexOf("\n")) >= 0) {
          const line = state.buffered.slice(0, newline).trim();
          state.buffered = state.buffered.slice(newline + 1);
          if (line) state.queue = state.queue.then(() => answer(socket, line));
        }
        if (Buffer.byteLength(state.buffered) > MAX_REQUEST_BYTES) {
          state.buffered = "";
          state.queue = state.queue.then(() => {
            socket.write(encode({ ok: false, error: { code: "E2BIG", message: `request longer than ${MAX_REQUEST_BYTES} bytes` } }));
            socket.end();
          });
        }
      },
      error(_socket, error) {
        log.warn("control connection error", { error });
      },
    });
    return new ControlServer(listener, path);
  }

  /** Stops listening and removes the socket file. */
  close(): void {
    this.listener.stop(true);
    rmSync(this.path, { force: true });
  }
}
