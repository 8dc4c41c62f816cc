/**
 * @module connection — one registered connection of this thread to its tenant's service: the registration socket
 * (kept open: closing it tells the router this client is gone), the mapped region, this thread's queue and request
 * buffer, and a synchronous `call` that never hangs on a dead service.
 */
import * as v from "valibot";
import { ProcessWatch } from "../../kernel/sys/process-watch.ts";
import { currentCpu } from "../../kernel/sys/libc.ts";
import { BlockingUnixSocket, UnixSocketError } from "../../kernel/sys/unix-socket.ts";
import { RegistrationReplySchema, type MountEntry } from "../../kernel/ipc/server/index.ts";
import { ERRNO, errnoNumber, FsError } from "../../kernel/ipc/protocol/index.ts";
import type { Transport } from "./transport.ts";
import { Region, RegionClosedError, RequestQueue, WaitTimeoutError, type Reply } from "../../kernel/ipc/ring/index.ts";

/** How long one wait lasts before the client checks that its service is still alive. */
const LIVENESS_SLICE_MS = 50;
/** How long registration may take. */
const REGISTRATION_TIMEOUT_MS = 5000;
/**
 * Ceiling of an application's adaptive reply spin: about `QUICK_WAKE_MS` (spin-wait.ts) of loads, ~2 ns each here,
 * the time up to which the spin grows while its sleeps keep ending that soon. The queue's default (20,000, ~40 µs)
 * sleeps through any reply that takes longer, and waking a thread on an idle core costs 15–25 µs each way on this
 * machine kind (`perf sched timehist` of a fully split tenant: a stat of 45 µs took 80 µs once both sides slept).
 * It spins on the application's own core only: beside its service (the same core) a client does not spin at all.
 */
export const CLIENT_MAX_SPIN = 100_000;

/** The service of this connection is gone (killed, restarted or stopped); the next call on a new connection works. */
export function notConnected(syscall: string): FsError {
  const error = new FsError(ERRNO.ENOTCONN, syscall);
  error.message = `ENOTCONN: ${syscall}: the tenant's filesystem service went away (killed, restarted or stopped) before answering; the next call reconnects`;
  return error;
}

/**
 * What another thread of a registered process needs to call the same service as the same client (so descriptors
 * opened by one thread work in every other, as a process's fds do): its own request buffer, from `attach_thread`.
 * Plain data, so it crosses `postMessage`. The thread that registered keeps the registration socket open; when it
 * closes (or the process dies), the router releases every buffer and descriptor of the client.
 */
export interface ThreadGrant {
  readonly region: string;
  readonly queue: number;
  readonly queueCpus: readonly number[];
  readonly client: number;
  readonly buffer: number;
  readonly bufferSize: number;
  readonly servicePid: number;
  readonly epoch: number;
  readonly mounts: readonly MountEntry[];
}

/** A live connection to one tenant service over the shared-memory ring. */
export class Connection implements Transport {
  /** The request buffer of this thread, as bytes. */
  readonly buffer: Uint8Array;
  readonly view: DataView;
  private nextRequest = 1;
  private dead = false;

  private constructor(
    /** The registration socket; null in a thread working from a {@link ThreadGrant}. */
    private readonly socket: BlockingUnixSocket | null,
    private readonly region: Region,
    private readonly queue: RequestQueue,
    private readonly queueCpus: readonly number[],
    private readonly service: ProcessWatch | null,
    readonly client: number,
    readonly bufferIndex: number,
    readonly bufferSize: number,
    readonly epoch: number,
    readonly mounts: readonly MountEntry[],
  ) {
    this.buffer = region.buffer(bufferIndex);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  }

  /** Registers with the router listening on `socketPath`. Throws FsError ENOTCONN when no service answers there. */
  static open(socketPath: string): Connection {
    let socket: BlockingUnixSocket;
    try {
      socket = BlockingUnixSocket.connect(socketPath);
    } catch (error) {
      const code = error instanceof UnixSocketError ? error.errno : ERRNO.EIO;
      throw new FsError(code === ERRNO.ENOENT || code === ERRNO.ECONNREFUSED ? ERRNO.ENOTCONN : code, "connect", socketPath);
    }
    try {
      socket.write(JSON.stringify({ op: "register", pid: process.pid, cpu: Math.max(0, currentCpu()) }) + "\n");
      const parsed = v.safeParse(RegistrationReplySchema, JSON.parse(socket.readLine(REGISTRATION_TIMEOUT_MS)));
      if (!parsed.success) throw new FsError(ERRNO.EPROTO, "register", socketPath);
      const reply = parsed.output;
      if (!reply.ok) throw new FsError(errnoNumber(reply.errno) ?? ERRNO.EIO, "register", socketPath);
      if (!("client" in reply)) throw new FsError(ERRNO.EPROTO, "register", socketPath);
      const region = Region.open(reply.region);
      const queue = new RequestQueue(region, reply.queue, { peerCpus: reply.queueCpus, maxSpin: CLIENT_MAX_SPIN });
      return new Connection(socket, region, queue, reply.queueCpus, ProcessWatch.open(reply.servicePid), reply.client, reply.buffer, reply.bufferSize, reply.epoch, reply.mounts);
    } catch (error) {
      socket.close();
      if (error instanceof FsError) throw error;
      throw new FsError(ERRNO.ENOTCONN, "register", socketPath);
    }
  }

  /**
   * A connection for another thread, from a grant of {@link attachThread}: same client, its own request buffer.
   * Closing it does not end the registration.
   */
  static fromGrant(grant: ThreadGrant): Connection {
    const region = Region.open(grant.region);
    const queue = new RequestQueue(region, grant.queue, { peerCpus: [...grant.queueCpus] });
    return new Connection(null, region, queue, grant.queueCpus, ProcessWatch.open(grant.servicePid), grant.client, grant.buffer, grant.bufferSize, grant.epoch, grant.mounts);
  }

  /**
   * Asks the router for one more request buffer of this client (`attach_thread`), for another thread to use through
   * {@link Connection.fromGrant}. Only on the registering connection. Throws FsError (EAGAIN when every buffer of the
   * tenant is in use, ENOTCONN when the service is gone).
   */
  attachThread(): ThreadGrant {
    if (this.socket === null) throw new FsError(ERRNO.EINVAL, "attach_thread");
    if (this.dead) throw notConnected("attach_thread");
    let reply: unknown;
    try {
      this.socket.write(JSON.stringify({ op: "attach_thread" }) + "\n");
      reply = JSON.parse(this.socket.readLine(REGISTRATION_TIMEOUT_MS));
    } catch {
      throw notConnected("attach_thread");
    }
    const parsed = v.safeParse(RegistrationReplySchema, reply);
    if (!parsed.success) throw new FsError(ERRNO.EPROTO, "attach_thread");
    const answer = parsed.output;
    if (!answer.ok) throw new FsError(errnoNumber(answer.errno) ?? ERRNO.EIO, "attach_thread");
    if (!("buffer" in answer)) throw new FsError(ERRNO.EPROTO, "attach_thread");
    return {
      region: this.region.path!,
      queue: this.queue.index,
      queueCpus: this.queueCpus,
      client: this.client,
      buffer: answer.buffer,
      bufferSize: this.bufferSize,
      servicePid: this.service?.pid ?? 0,
      epoch: this.epoch,
      mounts: this.mounts,
    };
  }

  /** False once the service was found gone; such a connection answers every call with ENOTCONN. */
  get alive(): boolean {
    return !this.dead;
  }

  /**
   * Looks now whether the service is still running (without a call: for a registration that makes none itself);
   * when it is gone, the connection is dead from here on. Returns {@link alive}.
   */
  probe(): boolean {
    if (!this.dead && (this.service === null || this.service.exited())) this.markDead();
    return !this.dead;
  }

  /**
   * One request: the payload is already in this thread's buffer at [0, length). Returns the reply (result ≥ 0 or
   * -errno). Throws FsError ENOTCONN when the service dies or goes away before answering.
   */
  call(opcode: number, args: readonly number[], length: number, syscall: string): Reply {
    if (this.dead) throw notConnected(syscall);
    const request = { requestId: this.nextRequest++, opcode, client: this.client, buffer: this.bufferIndex, offset: 0, length, args };
    try {
      let slot: number;
      for (;;) {
        try {
          slot = this.queue.submit(request, { timeoutMs: LIVENESS_SLICE_MS });
          break;
        } catch (error) {
          if (!(error instanceof WaitTimeoutError)) throw error;
          this.checkAlive(syscall);
        }
      }
      for (;;) {
        try {
          return this.queue.waitReply(slot, { timeoutMs: LIVENESS_SLICE_MS });
        } catch (error) {
          if (!(error instanceof WaitTimeoutError)) throw error;
          this.checkAlive(syscall);
        }
      }
    } catch (error) {
      if (error instanceof RegionClosedError) {
        this.markDead();
        throw notConnected(syscall);
      }
      throw error;
    }
  }

  private checkAlive(syscall: string): void {
    if (!this.probe()) throw notConnected(syscall);
  }

  private markDead(): void {
    this.dead = true;
    this.service?.close();
    this.socket?.close();
  }

  /** Ends the registration: the router releases this client's files and buffer. */
  close(): void {
    if (!this.dead) this.markDead();
  }
}
