/**
 * @module router — the tenant's back driver (paper §3.5, §4.1): creates the shared-memory region (one request queue per
 * core of the tenant), runs service threads pinned to each queue's core (more while a queue is busy), keeps the
 * open-file table and the mount table, and registers clients.
 */
import { existsSync } from "node:fs";
import { publishStats, type ServiceContext } from "../../kernel/service-host/index.ts";
import { TenantStorage } from "../client-cache/index.ts";
import { createUnionShared } from "../union/index.ts";
import {
  attachStackMount, channelRegionPath, channelSocketPath, downstreamOf, placementOf, planMounts, type ChannelHost, type DataService,
  type Downstream, type StackMount, type StackShared,
} from "../tenant-stack.ts";
import { ServingRegistration } from "../../shims/ts/index.ts";
import { publishLocalDataPath } from "./local-data-path.ts";
import { FileTable } from "./file-table.ts";
import type { FileSystem } from "../../kernel/ipc/protocol/index.ts";
import { routerSocketPath } from "./registration.ts";
import { Registry } from "./registry.ts";
import { StreamServer, streamSocketPath } from "./stream-server.ts";
import { Region, RequestQueue } from "../../kernel/ipc/ring/index.ts";
import { CONTROL, type ServiceThreadInit, type ServiceThreadMessage } from "./service-thread.ts";
import { ActivityTable } from "./activity.ts";
import { ChangeLog } from "./change-log.ts";
import { heldRequests, needsThread, type HeldRequest } from "./watchdog.ts";

/** Sizes of a tenant's region and tables. */
export interface RouterLimits {
  /** Entries per queue. */
  queueCapacity: number;
  /** Request buffers (client threads) of the tenant. */
  bufferCount: number;
  /** Bytes per request buffer: the largest single transfer; bigger reads and writes are split by the client. */
  bufferSize: number;
  /** Open files of the tenant. */
  maxOpenFiles: number;
  /** Service threads per queue at most (the first is permanent, extras retire when idle). */
  maxThreadsPerQueue: number;
  /** Pending requests after a take that ask for an extra thread. */
  busyThreshold: number;
  /** Idle time after which an extra thread retires. */
  retireAfterMs: number;
  /**
   * A request in service this long holds its thread (a FIFO waiting for its partner, a backend that stopped
   * answering): the watchdog lists it in `status` and, when no other thread of its queue is free, adds one.
   */
  heldAfterMs: number;
  /** Threads per queue that held requests may pin beyond {@link maxThreadsPerQueue}; past that the queue waits. */
  maxHeldThreadsPerQueue: number;
}

/** Defaults: 1 MiB transfers, 64 client threads, 4096 open files. */
export const DEFAULT_LIMITS: RouterLimits = {
  queueCapacity: 64,
  bufferCount: 64,
  bufferSize: 1024 * 1024,
  maxOpenFiles: 4096,
  maxThreadsPerQueue: 3,
  busyThreshold: 4,
  retireAfterMs: 2000,
  heldAfterMs: 1000,
  maxHeldThreadsPerQueue: 16,
};

/**
 * The limits of `tenant`'s router: the defaults, plus one request buffer per serving thread and one per registration
 * for every legacy mount fuse-legacy reaches through the ring (its own process), so however many legacy mounts a
 * tenant has, they never run out of buffers nor take those of its other clients.
 */
export function limitsFor(tenant: ServiceContext["tenant"], role: DataService = "ipc-router"): RouterLimits {
  if (role !== "ipc-router") {
    // A channel host's clients are the serving threads of the (at most two) servers above it, each with one buffer per
    // thread it may run and one for its main thread (see tenant-stack.ts), and a few for tools.
    return { ...DEFAULT_LIMITS, bufferCount: 2 * (threadSlots(tenant) + 1) + 8, heldAfterMs: tenant.heldRequestMs };
  }
  const inProcess = tenant.topology.some((group) => group.includes("fuse-legacy") && group.includes("ipc-router"));
  const legacy = inProcess ? 0 : tenant.mounts.filter((m) => m.legacy).length;
  return { ...DEFAULT_LIMITS, bufferCount: DEFAULT_LIMITS.bufferCount + legacy * (tenant.fuse.threads + 1), heldAfterMs: tenant.heldRequestMs };
}

/** The service threads a server of `tenant` may run at once: its activity slots (queues x the per-queue bound). */
export function threadSlots(tenant: ServiceContext["tenant"], limits: RouterLimits = DEFAULT_LIMITS): number {
  return tenant.cpus.length * (limits.maxThreadsPerQueue + limits.maxHeldThreadsPerQueue);
}

/** How long a server waits at start for a channel host it serves from (started before it by the supervisor). */
const DOWNSTREAM_TIMEOUT_MS = 30_000;

const STATS_INTERVAL_MS = 1000;
const THREAD_ENTRY = new URL("./service-thread-main.ts", import.meta.url).href;

/** A running router. */
export class IpcRouter {
  private readonly threads = new Map<number, Set<Worker>>();
  /** The activity-table slot of each running service thread, and the slots free for new ones. */
  private readonly slots = new Map<Worker, number>();
  private readonly freeSlots: number[];
  private readonly activityBuffer: SharedArrayBuffer;
  private readonly activity: ActivityTable;
  /** Requests held longer than the bound at the last watchdog pass (for status and the log). */
  private held: HeldRequest[] = [];
  private readonly watchdogTimer: ReturnType<typeof setInterval>;
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  /** Bytes the threads moved by reference (see service-thread.ts). */
  private readonly referenced = new BigInt64Array(new SharedArrayBuffer(8));
  private readonly registry: Registry;
  /** Files clients wrote, for the watchers of the registration socket (fuse-legacy). */
  private readonly changes = new ChangeLog(ChangeLog.allocate());
  private readonly socketPath: string;
  private readonly stream: StreamServer | null;
  private stopped = false;
  /** Publishes the cache's counters for `danaus status` every second. */
  private readonly statsTimer: ReturnType<typeof setInterval>;

  private constructor(
    private readonly ctx: ServiceContext,
    private readonly role: DataService,
    private readonly limits: RouterLimits,
    readonly region: Region,
    private readonly storage: TenantStorage | null,
    private readonly downstream: ReadonlyMap<ChannelHost, ServingRegistration>,
    private readonly stack: StackShared,
    private readonly served: StackMount[],
    private readonly files: SharedArrayBuffer,
    private readonly bufferOwners: SharedArrayBuffer,
    epoch: number,
  ) {
    const mainMounts: (FileSystem | undefined)[] = [];
    const mountTable = served.map(({ path, id, kind, legacy }) => ({ path, id, kind, legacy }));
    const queues = ctx.tenant.cpus.map((_, q) => new RequestQueue(region, q));
    this.socketPath = role === "ipc-router" ? routerSocketPath(ctx.runtime.runDir) : channelSocketPath(ctx.runtime.runDir, role);
    const perQueue = limits.maxThreadsPerQueue + limits.maxHeldThreadsPerQueue;
    // The main thread closes the files of clients that died: it has the request buffer after the threads' on channels.
    for (const mount of served) mainMounts[mount.id] = attachStackMount(stack, mount.attach, queues.length * perQueue);
    this.activityBuffer = ActivityTable.allocate(queues.length * perQueue);
    this.activity = new ActivityTable(this.activityBuffer);
    this.freeSlots = Array.from({ length: queues.length * perQueue }, (_, i) => queues.length * perQueue - 1 - i);
    this.statsTimer = setInterval(() => this.publishStats(), STATS_INTERVAL_MS);
    this.watchdogTimer = setInterval(() => this.watch(), Math.max(20, Math.min(250, limits.heldAfterMs / 2)));
    this.registry = new Registry({
      region,
      queues,
      files: new FileTable(files),
      bufferOwners: new Int32Array(bufferOwners),
      mounts: mainMounts,
      mountTable,
      cpus: ctx.tenant.cpus,
      servicePid: process.pid,
      epoch,
      attrTimeoutMs: Math.floor(ctx.tenant.fuse.attrTimeoutMs),
      log: ctx.log,
      changes: this.changes,
    });
    // The stream transport is for applications: only the front has it.
    this.stream =
      role === "ipc-router"
        ? new StreamServer({
            mounts: mainMounts,
            files: new FileTable(files),
            mountTable,
            bufferSize: limits.bufferSize,
            log: ctx.log,
            mutated: () => region.bumpMutations(),
          })
        : null;
  }

  /** The region file of `ctx`'s tenant: the applications' (the front's), or channel host `role`'s. */
  static regionPath(ctx: ServiceContext, role: DataService = "ipc-router"): string {
    return role === "ipc-router" ? `${ctx.runtime.shmPrefix}region` : channelRegionPath(ctx.runtime.shmPrefix, role);
  }

  /**
   * Creates the region, starts one pinned service thread per queue and the registration socket. `role` says which
   * server of the tenant's stack this is (see tenant-stack.ts): the front (the applications' ipc-router) or the
   * channel host of a union or client-cache process. The tenant storage is opened when client-cache runs in this
   * process; the channel hosts it serves from are registered with first (the supervisor starts them before).
   */
  static async start(ctx: ServiceContext, role: DataService = "ipc-router", limits: RouterLimits = limitsFor(ctx.tenant, role)): Promise<IpcRouter> {
    const tenant = ctx.tenant;
    const group = placementOf(tenant.topology)[role];
    const slots = threadSlots(tenant, limits);
    const downstream = new Map<ChannelHost, ServingRegistration>();
    let storage: TenantStorage | null = null;
    try {
      for (const host of downstreamOf(tenant, group)) {
        const socket = channelSocketPath(ctx.runtime.runDir, host);
        const registration = await ServingRegistration.open(socket, [], slots + 1, DOWNSTREAM_TIMEOUT_MS, {
          served: () => ctx.log.info("serving again from a restarted service", { service: host }),
          unserved: (problem) => ctx.log.warn("a service this one serves from is gone", { service: host, error: problem.message }),
        });
        downstream.set(host, registration);
      }
      if (placementOf(tenant.topology)["client-cache"] === group) {
        storage = await TenantStorage.open(tenant, `danaus.${ctx.runtime.instance}.${tenant.name}.data-path`, (message) =>
          ctx.log.error("cache write-back failed", { error: message }),
        );
      }
    } catch (error) {
      for (const registration of downstream.values()) registration.close();
      throw error;
    }
    const opened = storage;
    const reach = (host: ChannelHost): Downstream => {
      const registration = downstream.get(host)!;
      return { ...registration.spec, paths: new Set(registration.mounts.map((m) => m.path)) };
    };
    const { served, skipped } = planMounts({ tenant, group, downstream: reach, ...(opened !== null ? { missing: (paths) => opened.missingDirectories(paths) } : {}) });
    for (const mount of skipped) ctx.log.error("mount not served", { ...mount });
    const stack: StackShared = { storage: storage?.shared ?? null, union: storage?.shared.union ?? createUnionShared() };
    const path = IpcRouter.regionPath(ctx, role);
    // A region left by a killed predecessor: marked closed, so its clients see the old service gone (and stop using
    // attributes they cached under it), and reconnect to the new file.
    if (existsSync(path)) Region.retire(path);
    const region = Region.create(path, {
      queueCount: ctx.tenant.cpus.length,
      queueCapacity: limits.queueCapacity,
      bufferCount: limits.bufferCount,
      bufferSize: limits.bufferSize,
    });
    const epoch = region.claimService(process.pid);
    const router = new IpcRouter(ctx, role, limits, region, storage, downstream, stack, served, FileTable.allocate(limits.maxOpenFiles, ctx.tenant.maxDirStreams), new SharedArrayBuffer(limits.bufferCount * 4), epoch);
    await Promise.all(ctx.tenant.cpus.map((_, q) => router.startThread(q, false)));
    router.registry.listen(router.socketPath);
    router.stream?.listen(streamSocketPath(ctx.runtime.runDir));
    // fuse-legacy in this process serves straight from the storage, when every layer runs here.
    if (role === "ipc-router" && storage !== null && served.every((m) => m.attach.via === "storage")) {
      const mounts = served.flatMap((m) => (m.attach.via === "storage" ? [{ path: m.path, branches: m.attach.branches }] : []));
      publishLocalDataPath({ storage: storage.shared, mounts, regionAddress: region.address });
    }
    ctx.log.info(`${role} serving`, { region: path, socket: router.socketPath, queues: ctx.tenant.cpus.length, mounts: served.map((m) => m.path), from: [...downstream.keys()], epoch });
    return router;
  }

  /** What the router holds now: registered clients, open files, request buffers in use, service threads per queue, held requests. */
  stats(): { clients: number; openFiles: number; buffersInUse: number; threads: number[]; held: string[] } {
    const owners = new Int32Array(this.bufferOwners);
    return {
      clients: this.registry.clientCount,
      openFiles: new FileTable(this.files).openCount(),
      buffersInUse: owners.reduce((n, owner) => n + (owner !== 0 ? 1 : 0), 0),
      threads: this.threadCounts(),
      held: this.held.map((h) => `queue ${h.queue}: ${h.description}`),
    };
  }

  /**
   * Writes this server's counters, and the cache's when the storage is in this process, to the tenant's run directory,
   * where `danaus status` reads them: the front's under "ipc-router", a channel host's under its service (merged with
   * the cache's for client-cache). `mounts` counts what it serves (channel mounts included).
   */
  private publishStats(): void {
    try {
      const cache = this.storage?.stats() ?? null;
      const { clients, openFiles, buffersInUse, threads, held } = this.stats();
      const server = {
        clients,
        openFiles,
        buffersInUse,
        serviceThreads: threads.reduce((a, b) => a + b, 0),
        heldRequests: held.length,
        // What this process holds: the mounts it serves, the backend client and cache (1 when opened here), the union
        // instances its threads run, and the channels it serves from.
        mounts: this.served.length,
        storage: this.storage === null ? 0 : 1,
        unionMounts: this.served.filter((m) => m.attach.via === "union" || (m.attach.via === "storage" && m.attach.branches.kind === "union")).length,
        channels: this.downstream.size,
        // Bytes read or written in place in the applications' region on requests from the process above.
        referencedBytes: Number(Atomics.load(this.referenced, 0)),
      };
      const notes = held.map((line) => `held request: ${line}`);
      if (this.role === "client-cache") {
        publishStats(this.ctx.runtime.runDir, "client-cache", { ...(cache ?? {}), ...server }, notes);
        return;
      }
      if (cache !== null) publishStats(this.ctx.runtime.runDir, "client-cache", { ...cache });
      publishStats(this.ctx.runtime.runDir, this.role, server, notes);
    } catch (error) {
      this.ctx.log.warn("could not publish statistics", { error: String(error) });
    }
  }

  /**
   * The watchdog pass (on the router's own thread, never a service thread: a held thread cannot report itself): finds
   * requests in service longer than `heldAfterMs`, logs each once, and gives a queue whose every thread is held one more.
   */
  private watch(): void {
    if (this.stopped) return;
    const now = Date.now();
    const before = new Set(this.held.map((h) => `${h.thread}:${h.startedAt}`));
    const held: HeldRequest[] = [];
    for (const [queue, set] of this.threads) {
      const queueHeld = heldRequests(this.activity, [...set].map((w) => this.slots.get(w)!), now, this.limits.heldAfterMs, this.region);
      held.push(...queueHeld);
      if (needsThread(set.size, queueHeld.length, this.limits.maxThreadsPerQueue + this.limits.maxHeldThreadsPerQueue)) {
        this.ctx.log.warn("every service thread of the queue is held: adding one", { queue, held: queueHeld.map((h) => h.description) });
        void this.startThread(queue, true);
      } else if (queueHeld.length >= set.size && queueHeld.length > 0) {
        this.ctx.log.error("every service thread of the queue is held and the thread limit is reached", { queue, threads: set.size });
      }
    }
    for (const h of held) if (!before.has(`${h.thread}:${h.startedAt}`)) this.ctx.log.warn("request held in service", { queue: h.queue, request: h.description });
    this.held = held;
  }

  /** Service threads per queue now. */
  threadCounts(): number[] {
    return this.ctx.tenant.cpus.map((_, q) => this.threads.get(q)?.size ?? 0);
  }

  private startThread(queue: number, extra: boolean): Promise<void> {
    const slot = this.freeSlots.pop();
    if (slot === undefined) {
      this.ctx.log.error("no activity slot for another service thread", { queue });
      return Promise.resolve();
    }
    this.activity.reset(slot);
    const worker = new Worker(THREAD_ENTRY);
    const set = this.threads.get(queue) ?? new Set<Worker>();
    this.threads.set(queue, set);
    set.add(worker);
    this.slots.set(worker, slot);
    const init: ServiceThreadInit = {
      regionAddress: this.region.address,
      queue,
      cpus: [this.ctx.tenant.cpus[queue]!],
      mounts: this.served,
      stack: this.stack,
      files: this.files,
      bufferOwners: this.bufferOwners,
      control: this.control.buffer as SharedArrayBuffer,
      faults: this.ctx.faults.shared,
      retireAfterMs: extra ? this.limits.retireAfterMs : null,
      busyThreshold: this.limits.busyThreshold,
      activity: this.activityBuffer,
      activitySlot: slot,
      changes: this.changes.shared,
      besideClients: this.role !== "ipc-router",
      frontRegionPath: IpcRouter.regionPath(this.ctx),
      referenced: this.referenced.buffer as SharedArrayBuffer,
    };
    return new Promise((resolve) => {
      worker.onmessage = (event: MessageEvent<ServiceThreadMessage>) => {
        const message = event.data;
        switch (message.type) {
          case "ready":
            if (message.pinned !== 0) this.ctx.log.warn("service thread not pinned", { queue, errno: message.pinned });
            resolve();
            return;
          case "busy":
            if (!this.stopped && set.size - this.heldOn(queue) < this.limits.maxThreadsPerQueue) {
              this.ctx.log.debug("queue busy: adding a service thread", { queue, pending: message.pending });
              void this.startThread(queue, true);
            }
            return;
          case "retired":
            set.delete(worker);
            this.slots.delete(worker);
            this.freeSlots.push(slot);
            return;
          case "bug":
            this.ctx.log.error("request handler failed; answered EIO", { operation: message.operation, error: message.message, stack: message.stack });
            return;
        }
      };
      worker.addEventListener("error", (event) => this.ctx.log.error("service thread crashed", { queue, error: (event as ErrorEvent).message }));
      worker.postMessage(init);
    });
  }

  /** Threads of `queue` held at the last watchdog pass. */
  private heldOn(queue: number): number {
    return this.held.reduce((n, h) => n + (h.queue === queue ? 1 : 0), 0);
  }

  /** Stops serving: closes the region (blocked clients fail with ENOTCONN at once), stops the threads, removes the files. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.watchdogTimer);
    publishLocalDataPath(undefined);
    Atomics.store(this.control, CONTROL.stop, 1);
    this.registry.close(this.socketPath);
    this.stream?.close(streamSocketPath(this.ctx.runtime.runDir));
    this.region.close();
    const workers = [...this.threads.values()].flatMap((set) => [...set]);
    await Promise.race([
      Promise.all(workers.map((w) => new Promise((resolve) => w.addEventListener("close", resolve)))),
      Bun.sleep(1000),
    ]);
    for (const worker of workers) worker.terminate();
    this.region.unlink();
    clearInterval(this.statsTimer);
    for (const registration of this.downstream.values()) registration.close();
    await this.storage?.close();
  }
}
