/** @module transport — what a client-side FileSystem needs from its way to the service: a request buffer and one call. */
import type { MountEntry } from "../../kernel/ipc/server/index.ts";

/** A way to the tenant service: the shared-memory ring (Connection) or the stream socket (StreamTransport). */
export interface Transport {
  /** This thread's request buffer: payloads go in at 0, replies come back at 0. */
  readonly buffer: Uint8Array;
  readonly view: DataView;
  readonly bufferSize: number;
  readonly mounts: readonly MountEntry[];
  /** False once the service is known gone. */
  readonly alive: boolean;
  /**
   * One request: `length` is the window (payload in, reply capacity out), `payload` how many of its bytes carry request
   * data (the ring shares the buffer and ignores it). Returns the result (≥ 0 or -errno) and reply length; throws
   * FsError ENOTCONN when the service is gone.
   */
  call(opcode: number, args: readonly number[], length: number, syscall: string, payload?: number): { result: number; replyLength: number };
  close(): void;
}
