/**
 * @module registry — the router's client registry: a 0600 Unix socket where client processes register, get request
 * buffers and the mount table, and whose connection close (the process exited or died) releases all they held.
 */
import { chmodSync, rmSync } from "node:fs";
import type { Socket, UnixSocketListener } from "bun";
import * as v from "valibot";
import type { Logger } from "../../kernel/log/index.ts";
import type { FileTable } from "./file-table.ts";
import type { FileSystem } from "./protocol/index.ts";
import {
  MAX_REGISTRATION_BYTES,
  RegistrationRequestSchema,
  type MountEntry,
  type RegistrationReply,
  type RegistrationRequest,
} from "./registration.ts";
import type { Region, RequestQueue } from "./ring/index.ts";

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
  log: Logger;
}

interface Connection {
  client: number;
  pid: number;
  buffers: Set<number>;
  pending: string;
}

/** Delays (ms) of the passes that reclaim a dead client's queue entries still being served when it died. */
const RECLAIM_PASSES_MS = [0, 100, 1000];

/** The registration server of one tenant service. */
export class Registry {
  private listener: UnixSocketListener<Connection> | null = null;
  private readonly clients = new Map<number, Connection>();

  constructor(private readonly deps: RegistryDeps) {}

  /** Number of registered client connections. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Listens on `path` (mode 0600, only the tenant's owner may connect). */
  listen(path: string): void {
    rmSync(path, { force: true });
    const previousMask = process.umask(0o077);
    try {
      this.listener = Bun.listen<Connection>({
        unix: path,
        socket: {
          open: (socket) => {
            socket.data = { client: 0, pid: 0, buffers: new Set(), pending: "" };
          },
          data: (socket, chunk) => this.onData(socket, chunk.toString()),
          close: (socket) => this.release(socket.data),
          error: (socket, error) => this.deps.log.warn("registration connection error", { error, client: socket.data.client }),
        },
      });
    } finally {
      process.umask(previousMask);
    }
    chmodSync(path, 0o600);
  }

  /** Stops accepting clients (registered connections are dropped). */
  close(path: string): void {
    this.listener?.stop(true);
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
      this.reply(socket, this.handle(conn, line));
    }
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
      case "detach_thread": {
        if (!conn.buffers.has(request.buffer)) return { ok: false, errno: "EBADF", message: `buffer ${request.buffer} is not this client's` };
        conn.buffers.delete(request.buffer);
        Atomics.store(deps.bufferOwners, request.buffer, 0);
        return { ok: true };
      }
    }
  }

  /** A random non-zero 31-bit id not in use: another client cannot guess it to pass as its own. */
  private newClientId(): number {
    for (;;) {
      const id = (crypto.getRandomValues(new Uint32Array(1))[0]! & 0x7fffffff) || 1;
      if (!this.clients.has(id)) return id;
    }
  }

  private allocateBuffer(client: number): number {
    const owners = this.deps.bufferOwners;
    for (let i = 0; i < owners.length; i++) if (Atomics.compareExchange(owners, i, 0, client) === 0) return i;
    return -1;
  }

  /** Releases everything a client held: its open files now, its queue entries and buffers once in-flight requests end. */
  private release(conn: Connection): void {
    if (conn.client === 0) return;
    const { deps } = this;
    this.clients.delete(conn.client);
    let closed = 0;
    for (const { handle, mount } of deps.files.removeClient(conn.client)) {
      try {
        deps.mounts[mount]?.close(handle);
        closed++;
      } catch (error) {
        deps.log.warn("closing a dead client's file failed", { client: conn.client, error });
      }
    }
    const passes = [...RECLAIM_PASSES_MS];
    const reclaim = (): void => {
      let entries = 0;
      for (const queue of deps.queues) entries += queue.reclaimClient(conn.client);
      const next = passes.shift();
      if (next !== undefined) setTimeout(reclaim, next);
      else for (const buffer of conn.buffers) Atomics.compareExchange(deps.bufferOwners, buffer, conn.client, 0);
      if (entries > 0) deps.log.debug("reclaimed queue entries of a gone client", { client: conn.client, entries });
    };
    reclaim();
    deps.log.info("client gone: released its files, buffers and queue entries", { client: conn.client, clientPid: conn.pid, files: closed });
  }
}

