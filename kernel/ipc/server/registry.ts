/**
 * @module registry — the router's client registry: a 0600 Unix socket where client processes register, get request
 * buffers and the mount table, and whose connection close (the process exited or died) releases all they held.
 */
import { rmSync } from "node:fs";
import { listenPrivate } from "../../sys/private-socket.ts";
import type { Socket, UnixSocketListener } from "bun";
import * as v from "valibot";
import type { Logger } from "../../log/index.ts";
import type { ChangeLog } from "./change-log.ts";
import type { FileTable } from "./file-table.ts";
import type { PathStage } from "./path-stage.ts";
import { ENTRY, ENTRY_STATE, type FileSystem } from "../protocol/index.ts";
import {
  MAX_REGISTRATION_BYTES,
  nameChangedToWire,
  RegistrationRequestSchema,
  type MountEntry,
  type RegistrationReply,
  type RegistrationRequest,
} from "./registration.ts";
import type { Region, RequestQueue } from "../ring/index.ts";

/** What the registry shares with the rest of the router. */
export interface RegistryDeps {
  region: Region;
  /** One handle per queue, used to reclaim a dead client's entries. */
  queues: RequestQueue[];
  files: FileTable;
  bufferOwners: Int32Array;
  /** Filesystem instances of this (main) thread, to close a dead client's handles. */
  mounts: (FileSystem | undefined)[];
  mountTable: MountEntry[];
  /** The tenant's cores, in queue order (queue i serves cpus[i]). */
  cpus: number[];
  servicePid: number;
  epoch: number;
  /** The tenant's attribute timeout (`[fuse] attrTimeoutMs`), handed to clients that cache attributes. */
  attrTimeoutMs: number;
  log: Logger;
  /** Files and names clients changed, drained to the watchers. */
  changes: ChangeLog;
  /** Paths staged on request buffers: what a buffer's client left staged goes when the buffer does. */
  stage: PathStage;
}

interface Connection {
  client: number;
  pid: number;
  buffers: Set<number>;
  pending: string;
  /** A watcher's connection (see the "watch" request). */
  watching?: boolean;
  /** The id of the mount whose name changes a watcher hears (-1: none). */
  watchedMount?: number;
  /** What a watcher's socket did not take yet (it takes it at its next drain). */
  outbox?: Buffer;
  /** Changes left out of a watcher's full outbox, told as `lost` with its next line. */
  dropped?: number;
}

/**
 * Delays (ms) of the passes that reclaim a dead client's queue entries and buffers. Passes go on, every
 * {@link RECLAIM_REPEAT_MS} after these, for as long as a request of the client is still in service (a slow backend
 * call can outlast them all); the buffers are handed back at the first pass that finds none.
 */
const RECLAIM_PASSES_MS = [100, 1000];
const RECLAIM_REPEAT_MS = 1000;
/** How long the change drain waits after the first new record, to take a burst of them at once. */
const DRAIN_PAUSE_MS = 2;
/** Bytes of lines a watcher may leave unread; past it, a drain's line to it is dropped (and told as `lost`). */
const WATCH_BACKLOG_BYTES = 4 * 1024 * 1024;

/** The registration server of one tenant service. */
export class Registry {
  private listener: UnixSocketListener<Connection> | null = null;
  private stopped = false;
  private readonly clients = new Map<number, Connection>();
  /** Ids of gone clients whose release is still in progress: not handed out again until it ends. */
  private readonly releasing = new Set<number>();
  /** Watchers' sockets. */
  private readonly watchers = new Set<Socket<Connection>>();
  /** The change log index the drain reads from next; whether the drain loop runs. */
  private drainedTo = 0;
  private draining = false;

  constructor(private readonly deps: RegistryDeps) {}

  /** Number of registered client connections. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Listens on `path` (mode 0600, only the tenant's owner may connect). */
  listen(path: string): void {
    this.listener = listenPrivate<Connection>(path, {
      open: (socket) => {
        socket.data = { client: 0, pid: 0, buffers: new Set(), pending: "" };
      },
      data: (socket, chunk) => this.onData(socket, chunk.toString()),
      drain: (socket) => this.flush(socket),
      close: (socket) => {
        if (this.watchers.delete(socket)) {
          this.deps.changes.watch(-1);
          this.quietClientsOf(socket.data.pid);
        }
        this.release(socket.data);
      },
      error: (socket, error) => this.deps.log.warn("registration connection error", { error, client: socket.data.client }),
    });
  }

  /** Stops accepting clients (registered connections are dropped). */
  close(path: string): void {
    this.listener?.stop(true);
    this.stopped = true;
    rmSync(path, { force: true });
  }

  private onData(socket: Socket<Connection>, text: string): void {
    const conn = socket.data;
    conn.pending += text;
    if (conn.pending.length > MAX_REGISTRATION_BYTES) {
      this.reply(socket, { ok: false, errno: "E2BIG", message: `registration message longer than ${MAX_REGISTRATION_BYTES} bytes` });
      socket.end();
      return;
    }
    let newline: number;
    while ((newline = conn.pending.indexOf("\n")) >= 0) {
      const line = conn.pending.slice(0, newline);
      conn.pending = conn.pending.slice(newline + 1);
      const reply = this.handle(conn, line);
      this.reply(socket, reply);
      if (conn.watching && reply.ok && !this.watchers.has(socket)) this.startWatching(socket);
    }
  }

  /** Adds a watcher: from now on, the change log is kept and drained to it. */
  private startWatching(socket: Socket<Connection>): void {
    this.watchers.add(socket);
    if (this.watchers.size === 1) this.drainedTo = this.deps.changes.written;
    this.deps.changes.watch(1);
    this.quietClientsOf(socket.data.pid);
    if (!this.draining) void this.drainLoop();
  }

  /** Makes the clients of process `pid` quiet (their writes unrecorded) while a watcher of that process is there, loud again after. */
  private quietClientsOf(pid: number): void {
    const watched = [...this.watchers].some((socket) => socket.data.pid === pid);
    for (const [client, conn] of this.clients) if (conn.pid === pid) this.deps.changes.quiet(client, watched);
  }

  /** While anyone watches: waits for changes, and sends each watcher those made by other processes' clients. */
  private async drainLoop(): Promise<void> {
    this.draining = true;
    try {
      while (this.watchers.size > 0 && !this.stopped) {
        // The timeout only lets the loop notice that its watchers are gone. The pause gathers a burst of writes into one
        // drain (a thread records a file once per drain), at the price of that much delay.
        await this.deps.changes.whenWritten(this.drainedTo, 500);
        if (this.deps.changes.written !== this.drainedTo) await Bun.sleep(DRAIN_PAUSE_MS);
        const { changes, names, next, lost } = this.deps.changes.drain(this.drainedTo);
        // An entry still being written stops the drain short: come back after a breath, not in a spin.
        if (next === this.drainedTo && lost === 0) {
          if (this.deps.changes.written !== next) await Bun.sleep(1);
          continue;
        }
        this.drainedTo = next;
        if (lost > 0) this.deps.log.warn("change log lapped: some changes were not told to the kernel path", { lost });
        for (const socket of this.watchers) {
          const theirs = socket.data.pid;
          const changed = changes.filter((c) => this.clients.get(c.client)?.pid !== theirs).map((c): [number, number] => [c.st_dev, c.st_ino]);
          const mount = socket.data.watchedMount ?? -1;
          const told = names.filter((n) => n.mount === mount && this.clients.get(n.client)?.pid !== theirs).map(nameChangedToWire);
          const untold = lost + (socket.data.dropped ?? 0);
          if (changed.length === 0 && told.length === 0 && untold === 0) continue;
          const line = JSON.stringify({ changed, ...(told.length > 0 ? { names: told } : {}), ...(untold > 0 ? { lost: untold } : {}) }) + "\n";
          if (this.tell(socket, line)) {
            socket.data.dropped = 0;
            continue;
          }
          if (untold === lost) this.deps.log.warn("a watcher leaves its changes unread: dropping them", { watcherPid: theirs, backlogBytes: WATCH_BACKLOG_BYTES });
          socket.data.dropped = untold + changed.length + told.length;
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Writes `line` (ASCII) to watcher `socket`, keeping what the socket does not take now for its next drain (a socket
   * write takes what fits). False when the watcher already leaves {@link WATCH_BACKLOG_BYTES} unread: the line is dropped.
   */
  private tell(socket: Socket<Connection>, line: string): boolean {
    const conn = socket.data;
    if (conn.outbox !== undefined) {
      if (conn.outbox.length + line.length > WATCH_BACKLOG_BYTES) return false;
      conn.outbox = Buffer.concat([conn.outbox, Buffer.from(line, "latin1")]);
      return true;
    }
    const bytes = Buffer.from(line, "latin1");
    const written = socket.write(bytes);
    // -1: the socket is closing, and its close handler lets the watcher go.
    if (written >= 0 && written < bytes.length) conn.outbox = bytes.subarray(written);
    return true;
  }

  /** A watcher's socket takes more: writes what its outbox holds. */
  private flush(socket: Socket<Connection>): void {
    const outbox = socket.data.outbox;
    if (outbox === undefined) return;
    const written = socket.write(outbox);
    socket.data.outbox = written < 0 || written >= outbox.length ? undefined : outbox.subarray(written);
  }

  private reply(socket: Socket<Connection>, reply: RegistrationReply): void {
    socket.write(JSON.stringify(reply) + "\n");
  }

  private handle(conn: Connection, line: string): RegistrationReply {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      return { ok: false, errno: "EINVAL", message: "registration message is not JSON" };
    }
    const parsed = v.safeParse(RegistrationRequestSchema, raw);
    if (!parsed.success) return { ok: false, errno: "EINVAL", message: `invalid registration message: ${parsed.issues[0].message}` };
    return this.apply(conn, parsed.output);
  }

  private apply(conn: Connection, request: RegistrationRequest): RegistrationReply {
    const { deps } = this;
    switch (request.op) {
      case "register": {
        if (conn.client !== 0) return { ok: false, errno: "EISCONN", message: "this connection is already registered" };
        const client = this.newClientId();
        const buffer = this.allocateBuffer(client);
        if (buffer < 0) return { ok: false, errno: "EAGAIN", message: "every request buffer of the tenant is in use" };
        conn.client = client;
        conn.pid = request.pid;
        conn.buffers.add(buffer);
        this.clients.set(client, conn);
        if ([...this.watchers].some((socket) => socket.data.pid === request.pid)) this.deps.changes.quiet(client, true);
        const cpuQueue = request.cpu === undefined ? -1 : deps.cpus.indexOf(request.cpu);
        const queue = cpuQueue >= 0 ? cpuQueue : client % deps.queues.length;
        deps.log.debug("client registered", { client, clientPid: request.pid, buffer, queue });
        return {
          ok: true,
          client,
          region: deps.region.path!,
          queue,
          queueCount: deps.queues.length,
          queueCpus: [deps.cpus[queue]!],
          buffer,
          bufferSize: deps.region.layout.params.bufferSize,
          servicePid: deps.servicePid,
          epoch: deps.epoch,
          attrTimeoutMs: deps.attrTimeoutMs,
          mounts: deps.mountTable,
        };
      }
      case "attach_thread": {
        if (conn.client === 0) return { ok: false, errno: "ENOTCONN", message: "register first" };
        const buffer = this.allocateBuffer(conn.client);
        if (buffer < 0) return { ok: false, errno: "EAGAIN", message: "every request buffer of the tenant is in use" };
        conn.buffers.add(buffer);
        return { ok: true, buffer };
      }
      case "watch": {
        if (conn.client !== 0) return { ok: false, errno: "EISCONN", message: "watch on a connection of its own, not a registered one" };
        const mount = request.mount === undefined ? undefined : deps.mountTable.find((m) => m.path === request.mount);
        if (request.mount !== undefined && mount === undefined) return { ok: false, errno: "ENOENT", message: `watch: ${request.mount} is not a mount of this service` };
        conn.pid = request.pid;
        conn.watching = true;
        conn.watchedMount = mount?.id ?? -1;
        return { ok: true };
      }
      case "detach_thread": {
        if (!conn.buffers.has(request.buffer)) return { ok: false, errno: "EBADF", message: `buffer ${request.buffer} is not this client's` };
        conn.buffers.delete(request.buffer);
        deps.stage.drop(request.buffer);
        Atomics.store(deps.bufferOwners, request.buffer, 0);
        return { ok: true };
      }
    }
  }

  /** A random non-zero 31-bit id not in use: another client cannot guess it to pass as its own. */
  private newClientId(): number {
    for (;;) {
      const id = (crypto.getRandomValues(new Uint32Array(1))[0]! & 0x7fffffff) || 1;
      if (!this.clients.has(id) && !this.releasing.has(id)) return id;
    }
  }

  private allocateBuffer(client: number): number {
    const owners = this.deps.bufferOwners;
    for (let i = 0; i < owners.length; i++) if (Atomics.compareExchange(owners, i, 0, client) === 0) return i;
    return -1;
  }

  /**
   * Releases everything a client held: its open files now; its queue entries, and any file a request still in service
   * opens for it, in passes until none of its requests is in service; then its buffers, which no thread writes into any
   * more (a buffer handed back earlier could receive the late reply of a dead client's read in a new client's data).
   */
  private release(conn: Connection): void {
    if (conn.client === 0) return;
    const { deps } = this;
    this.clients.delete(conn.client);
    deps.changes.quiet(conn.client, false);
    this.releasing.add(conn.client);
    const closed = this.closeFilesOf(conn.client);
    const passes = [...RECLAIM_PASSES_MS];
    const reclaim = (): void => {
      if (this.stopped) return; // the router stopped: its region and tables go with it
      let entries = 0;
      for (const queue of deps.queues) entries += queue.reclaimClient(conn.client);
      const inService = this.entriesInUse(conn.client);
      // After counting: a request that completed before the count had already opened its file, so this closes it.
      const late = this.closeFilesOf(conn.client);
      if (entries > 0 || late > 0) deps.log.debug("reclaimed what a gone client's requests left", { client: conn.client, entries, files: late, inService });
      if (inService > 0) {
        setTimeout(reclaim, passes.shift() ?? RECLAIM_REPEAT_MS);
        return;
      }
      for (const buffer of conn.buffers) {
        deps.stage.drop(buffer);
        Atomics.compareExchange(deps.bufferOwners, buffer, conn.client, 0);
      }
      this.releasing.delete(conn.client);
    };
    reclaim();
    deps.log.info("client gone: released its files, buffers and queue entries", { client: conn.client, clientPid: conn.pid, files: closed });
  }

  /** Closes every file `client` still has open; returns how many. */
  private closeFilesOf(client: number): number {
    let closed = 0;
    for (const { handle, mount } of this.deps.files.removeClient(client)) {
      try {
        this.deps.mounts[mount]?.close(handle);
        closed++;
      } catch (error) {
        this.deps.log.warn("closing a dead client's file failed", { client, error });
      }
    }
    return closed;
  }

  /** Entries carrying `client`'s id that are published, being served or answered (VALID, SERVING or DONE). */
  private entriesInUse(client: number): number {
    const { region, queues } = this.deps;
    let count = 0;
    for (const queue of queues) {
      for (let slot = 0; slot < queue.capacity; slot++) {
        const state = queue.stateOf(slot);
        if (state !== ENTRY_STATE.VALID && state !== ENTRY_STATE.SERVING && state !== ENTRY_STATE.DONE) continue;
        if (region.view.getUint32(queue.entryOffset(slot) + ENTRY.offsets.client, true) === client >>> 0) count++;
      }
    }
    return count;
  }
}
