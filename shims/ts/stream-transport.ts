/**
 * @module stream-transport — the client side of the router's stream transport: the same `call` as the ring's
 * Connection, over a Unix stream socket (for measuring what the ring saves; applications use the ring).
 */
import { BlockingUnixSocket } from "../../kernel/sys/unix-socket.ts";
import type { MountEntry } from "../../kernel/ipc/server/index.ts";
import { ARG_COUNT, STREAM_REPLY, STREAM_REQUEST } from "../../kernel/ipc/protocol/index.ts";
import type { Transport } from "./transport.ts";

/** A connection to the router's stream socket. */
export class StreamTransport implements Transport {
  readonly buffer: Uint8Array;
  readonly view: DataView;
  readonly alive = true;
  private readonly header = new Uint8Array(STREAM_REQUEST.size);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly reply = new Uint8Array(STREAM_REPLY.size);
  private readonly replyView = new DataView(this.reply.buffer);

  private constructor(private readonly socket: BlockingUnixSocket, readonly client: number, readonly bufferSize: number, readonly mounts: readonly MountEntry[]) {
    this.buffer = new Uint8Array(bufferSize);
    this.view = new DataView(this.buffer.buffer);
  }

  /** Connects to the stream socket at `path` and reads its greeting. */
  static open(path: string): StreamTransport {
    const socket = BlockingUnixSocket.connect(path);
    const hello = JSON.parse(socket.readLine(5000)) as { client: number; bufferSize: number; mounts: MountEntry[] };
    return new StreamTransport(socket, hello.client, hello.bufferSize, hello.mounts);
  }

  /** Sends the request (payload: buffer[0, length) for operations that carry data or paths) and waits for the reply. */
  call(opcode: number, args: readonly number[], length: number, _syscall: string, payload = length): { result: number; replyLength: number } {
    const padded = args.length === ARG_COUNT ? args : [...args, ...new Array(ARG_COUNT - args.length).fill(0)];
    STREAM_REQUEST.write(this.headerView, 0, { opcode, window: length, payload, args: padded as number[] });
    this.socket.writeBytes(this.header);
    if (payload > 0) this.socket.writeBytes(this.buffer.subarray(0, payload));
    this.socket.readExact(this.reply);
    const { result, reply_length } = STREAM_REPLY.read(this.replyView, 0);
    if (reply_length > 0) this.socket.readExact(this.buffer.subarray(0, reply_length));
    return { result, replyLength: reply_length };
  }

  /** Closes the connection; the router releases this client's files. */
  close(): void {
    this.socket.close();
  }
}
