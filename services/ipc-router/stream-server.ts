/**
 * @module stream-server — the router's second transport: the same requests and the same dispatcher, over a Unix stream
 * socket (frames in protocol/stream-frame.ts) instead of the shared-memory ring. It exists to measure what the ring
 * saves and for debugging; applications use the ring. Served on the router's main thread.
 */
import { rmSync } from "node:fs";
import { listenPrivate } from "../../kernel/sys/private-socket.ts";
import type { Socket, UnixSocketListener } from "bun";
import type { Logger } from "../../kernel/log/index.ts";
import { dispatch, type DispatchContext, type FileTable, type MountEntry, PathStage } from "../../kernel/ipc/server/index.ts";
import { ARG_COUNT, ERRNO, STREAM_REPLY, STREAM_REQUEST, type FileSystem } from "../../kernel/ipc/protocol/index.ts";

interface StreamConnection {
  client: number;
  ctx: DispatchContext;
  buffer: Uint8Array;
  /** Received bytes not yet consumed. */
  pending: Uint8Array;
  /** Reply bytes the socket has not taken yet (Bun's write takes what the kernel buffer holds and returns the count). */
  outbox: Uint8Array[];
}

/** What the stream server shares with the router. */
export interface StreamServerDeps {
  mounts: (FileSystem | undefined)[];
  files: FileTable;
  mountTable: MountEntry[];
  bufferSize: number;
  log: Logger;
  /** Bumps the tenant's mutation generation (the region's), after each request that may have changed something. */
  mutated(): void;
}

/** Path of the stream transport's socket in a tenant's run directory. */
export function streamSocketPath(runDir: string): string {
  return `${runDir}/router-stream.sock`;
}

/** Serves requests over a Unix stream socket. */
export class StreamServer {
  private listener: UnixSocketListener<StreamConnection> | null = null;

  constructor(private readonly deps: StreamServerDeps) {}

  /** Listens on `path` (mode 0600). Each connection gets its own client id and a private buffer. */
  listen(path: string): void {
    this.listener = listenPrivate<StreamConnection>(path, {
      open: (socket) => this.open(socket),
      data: (socket, chunk) => this.receive(socket, chunk),
      drain: (socket) => this.flush(socket),
      close: (socket) => this.release(socket.data),
      error: (socket, error) => this.deps.log.warn("stream transport connection error", { error, client: socket.data?.client }),
    });
  }

  /** Stops listening and removes the socket. */
  close(path: string): void {
    this.listener?.stop(true);
    rmSync(path, { force: true });
  }

  private open(socket: Socket<StreamConnection>): void {
    const client = (crypto.getRandomValues(new Uint32Array(1))[0]! & 0x7fffffff) || 1;
    const buffer = new Uint8Array(this.deps.bufferSize);
    let stage: PathStage | undefined;
    const ctx: DispatchContext = {
      mounts: this.deps.mounts,
      files: this.deps.files,
      bufferOwners: new Int32Array([client]),
      buffer: () => buffer,
      // For the connection's one buffer, made by its first request whose paths do not fit a window.
      get stage() {
        return (stage ??= new PathStage(PathStage.allocate(1)));
      },
      onBug: (error, operation) => this.deps.log.error("request handler failed; answered EIO", { operation, error }),
      mutated: this.deps.mutated,
    };
    socket.data = { client, ctx, buffer, pending: new Uint8Array(0), outbox: [] };
    socket.write(JSON.stringify({ client, bufferSize: this.deps.bufferSize, mounts: this.deps.mountTable }) + "\n");
  }

  private receive(socket: Socket<StreamConnection>, chunk: Uint8Array): void {
    const conn = socket.data;
    const joined = new Uint8Array(conn.pending.length + chunk.length);
    joined.set(conn.pending, 0);
    joined.set(chunk, conn.pending.length);
    conn.pending = joined;
    this.serve(socket);
  }

  /** Serves every complete frame received, stopping while replies wait to be sent (back-pressure). */
  private serve(socket: Socket<StreamConnection>): void {
    const conn = socket.data;
    const joined = conn.pending;
    let at = 0;
    const view = new DataView(joined.buffer);
    while (joined.length - at >= STREAM_REQUEST.size) {
      const header = STREAM_REQUEST.read(view, at);
      const frameEnd = at + STREAM_REQUEST.size + header.payload;
      if (header.payload > this.deps.bufferSize) {
        this.answer(socket, -ERRNO.E2BIG, 0);
        socket.end();
        return;
      }
      if (joined.length < frameEnd) break;
      conn.buffer.set(joined.subarray(at + STREAM_REQUEST.size, frameEnd), 0);
      const window = Math.min(this.deps.bufferSize, Math.max(header.window, header.payload));
      const served = dispatch(conn.ctx, {
        requestId: 0,
        opcode: header.opcode,
        client: conn.client,
        buffer: 0,
        offset: 0,
        length: window,
        args: header.args.slice(0, ARG_COUNT),
      });
      at = frameEnd;
      if (!this.answer(socket, served.result, served.replyLength)) break;
    }
    conn.pending = joined.slice(at);
  }

  /** Queues a reply frame and sends what the socket takes; false when some of it must wait for `drain`. */
  private answer(socket: Socket<StreamConnection>, result: number, replyLength: number): boolean {
    const frame = new Uint8Array(STREAM_REPLY.size + replyLength);
    STREAM_REPLY.write(new DataView(frame.buffer), 0, { result, reply_length: replyLength });
    frame.set(socket.data.buffer.subarray(0, replyLength), STREAM_REPLY.size);
    socket.data.outbox.push(frame);
    return this.send(socket);
  }

  /** Writes queued reply bytes; true when all went out. */
  private send(socket: Socket<StreamConnection>): boolean {
    const outbox = socket.data.outbox;
    while (outbox.length > 0) {
      const head = outbox[0]!;
      const written = socket.write(head);
      if (written < head.length) {
        outbox[0] = head.subarray(Math.max(0, written));
        return false;
      }
      outbox.shift();
    }
    return true;
  }

  /** The socket can take more: send the rest, then serve frames that arrived meanwhile. */
  private flush(socket: Socket<StreamConnection>): void {
    if (this.send(socket)) this.serve(socket);
  }

  private release(conn: StreamConnection | undefined): void {
    if (!conn) return;
    for (const { handle, mount } of this.deps.files.removeClient(conn.client)) {
      try {
        this.deps.mounts[mount]?.close(handle);
      } catch (error) {
        this.deps.log.warn("closing a gone stream client's file failed", { client: conn.client, error });
      }
    }
  }
}
