/**
 * @module ring-server — a ring server: the region file (one request queue per core it serves), the service threads
 * pinned to each queue's core (more while a queue is busy, and more when every thread of a queue is held by a
 * request that does not end), the open-file table, the log of what clients changed, and the registration socket. It
 * serves whatever FileSystem instances it is given: the main thread's (to close the files of clients that died) and,
 * in each service thread, those the `served` module builds (see service-thread.ts). A tenant's data-path processes
 * (services/data-path-server.ts) each run one.
 */
import { existsSync } from "node:fs";
import type { Logger } from "../../log/index.ts";
import type { FileSystem } from "../protocol/index.ts";
import { Region, RequestQueue } from "../ring/index.ts";
import { ActivityTable } from "./activity.ts";
import { ChangeLog } from "./change-log.ts";
import { FileTable } from "./file-table.ts";
import { PathStage, type PathStageShared } from "./path-stage.ts";
import type { MountEntry } from "./registration.ts";
import { Registry } from "./registry.ts";
import { ServerCounters, type CounterName } from "./server-counters.ts";
import { CONTROL, type ServiceThreadInit, type ServiceThreadMessage } from "./service-thread.ts";
import { heldRequests, needsThread, type HeldRequest } from "./watchdog.ts";

/** Sizes of a server's region and tables. */
export interface RingLimits {
  /** Entries per queue. */
  queueCapacity: number;
  /** Request buffers (client threads) of the region. */
  bufferCount: number;
  /** Bytes per request buffer: the largest single transfer; bigger reads and writes are split by the client. */
  bufferSize: number;
  /** Open files of the server's clients. */
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
export const DEFAULT_LIMITS: RingLimits = {
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

/** The service threads a server on `cpus` may run at once: its activity slots (queues x the per-queue bound). */
export function threadSlotsOf(cpus: readonly number[], limits: RingLimits = DEFAULT_LIMITS): number {
  return cpus.length * (limits.maxThreadsPerQueue + limits.maxHeldThreadsPerQueue);
}

/** What a ring server is made of. */
export interface RingServerOptions {
  readonly log: Logger;
  /** The cores it serves on: one queue per core, its threads pinned to it. */
  readonly cpus: readonly number[];
  readonly limits: RingLimits;
  /** The region file (a predecessor's is retired first) and the registration socket. */
  readonly regionPath: string;
  readonly socketPath: string;
  /** The mount table clients receive, the main thread's instances by mount id, and what each service thread builds. */
  readonly mountTable: MountEntry[];
  readonly mainMounts: (FileSystem | undefined)[];
  readonly served: ServiceThreadInit["served"];
  /** The fault state's buffer (a `fault slow` delays every request). */
  readonly faults: SharedArrayBuffer;
  /** Every client is a service thread of a process above, on this server's cores (a channel host): never spin. */
  readonly besideClients: boolean;
  /** The application region's file, mapped for bulk data passed by reference. */
  readonly frontRegionPath: string;
  readonly attrTimeoutMs: number;
  readonly maxDirStreams: number;
}

const THREAD_ENTRY = new URL("./service-thread-main.ts", import.meta.url).href;

/** A running ring server. */
export class RingServer {
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
  /** What the threads did: bytes by reference and copied, requests answered and the time it took (server-counters.ts). */
  private readonly counters = new ServerCounters();
  private readonly registry: Registry;
  /** A handle on each queue of the region, for its status (requests waiting). */
  private readonly queues: RequestQueue[];
  /** Files clients wrote, for the watchers of the registration socket (fuse-legacy). */
  private readonly changes = new ChangeLog(ChangeLog.allocate());
  /** The open-file table (a {@link FileTable}'s buffer). */
  readonly files: SharedArrayBuffer;
  private readonly bufferOwners: SharedArrayBuffer;
  /** Paths staged ahead of their requests (a {@link PathStage}'s buffers). */
  private readonly stage: PathStageShared;
  private stopped = false;

  private constructor(
    private readonly options: RingServerOptions,
    readonly region: Region,
    /** The region's claim epoch (see Region.claimService). */
    readonly epoch: number,
  ) {
    const { cpus, limits } = options;
    this.files = FileTable.allocate(limits.maxOpenFiles, options.maxDirStreams);
    this.bufferOwners = new SharedArrayBuffer(limits.bufferCount * 4);
    this.stage = PathStage.allocate(limits.bufferCount);
    const queues = cpus.map((_, q) => new RequestQueue(region, q));
    this.queues = queues;
    const slotCount = threadSlotsOf(cpus, limits);
    this.activityBuffer = ActivityTable.allocate(slotCount);
    this.activity = new ActivityTable(this.activityBuffer);
    this.freeSlots = Array.from({ length: slotCount }, (_, i) => slotCount - 1 - i);
    this.watchdogTimer = setInterval(() => this.watch(), Math.max(20, Math.min(250, limits.heldAfterMs / 2)));
    this.registry = new Registry({
      region,
      queues,
      files: new FileTable(this.files),
      bufferOwners: new Int32Array(this.bufferOwners),
      mounts: options.mainMounts,
      mountTable: options.mountTable,
      cpus: [...cpus],
      servicePid: process.pid,
      epoch,
      attrTimeoutMs: options.attrTimeoutMs,
      log: options.log,
      changes: this.changes,
      stage: new PathStage(this.stage),
    });
  }

  /** Creates the region (retiring a killed predecessor's), starts one pinned service thread per queue, then listens. */
  static async start(options: RingServerOptions): Promise<RingServer> {
    // A region left by a killed predecessor: marked closed, so its clients see the old service gone (and stop using
    // attributes they cached under it), and reconnect to the new file.
    if (existsSync(options.regionPath)) Region.retire(options.regionPath);
    const region = Region.create(options.regionPath, {
      queueCount: options.cpus.length,
      queueCapacity: options.limits.queueCapacity,
      bufferCount: options.limits.bufferCount,
      bufferSize: options.limits.bufferSize,
    });
    const server = new RingServer(options, region, region.claimService(process.pid));
    await Promise.all(options.cpus.map((_, q) => server.startThread(q, false)));
    server.registry.listen(options.socketPath);
    return server;
  }

  /**
   * What the server holds now: registered clients, open files, request buffers in use, service threads and requests
   * waiting to be taken per queue, held requests.
   */
  stats(): { clients: number; openFiles: number; buffersInUse: number; threads: number[]; queued: number[]; held: string[] } {
    const owners = new Int32Array(this.bufferOwners);
    return {
      clients: this.registry.clientCount,
      openFiles: new FileTable(this.files).openCount(),
      buffersInUse: owners.reduce((n, owner) => n + (owner !== 0 ? 1 : 0), 0),
      threads: this.threadCounts(),
      queued: this.queues.map((queue) => queue.pending()),
      held: this.held.map((h) => `queue ${h.queue}: ${h.description}`),
    };
  }

  /**
   * What the threads did so far (server-counters.ts): bytes read or written in place in the application region, bytes
   * copied between two files inside this service, requests answered and the microseconds spent answering them.
   */
  counter(name: CounterName): number {
    return this.counters.read(name);
  }

  /** Service threads per queue now. */
  threadCounts(): number[] {
    return this.options.cpus.map((_, q) => this.threads.get(q)?.size ?? 0);
  }

  /**
   * The watchdog pass (on the server's own thread, never a service thread: a held thread cannot report itself): finds
   * requests in service longer than `heldAfterMs`, logs each once, and gives a queue whose every thread is held one more.
   */
  private watch(): void {
    if (this.stopped) return;
    const { limits, log } = this.options;
    const now = Date.now();
    const before = new Set(this.held.map((h) => `${h.thread}:${h.startedAt}`));
    const held: HeldRequest[] = [];
    for (const [queue, set] of this.threads) {
      const queueHeld = heldRequests(this.activity, [...set].map((w) => this.slots.get(w)!), now, limits.heldAfterMs, this.region);
      held.push(...queueHeld);
      if (needsThread(set.size, queueHeld.length, limits.maxThreadsPerQueue + limits.maxHeldThreadsPerQueue)) {
        log.warn("every service thread of the queue is held: adding one", { queue, held: queueHeld.map((h) => h.description) });
        void this.startThread(queue, true);
      } else if (queueHeld.length >= set.size && queueHeld.length > 0) {
        log.error("every service thread of the queue is held and the thread limit is reached", { queue, threads: set.size });
      }
    }
    for (const h of held) if (!before.has(`${h.thread}:${h.startedAt}`)) log.warn("request held in service", { queue: h.queue, request: h.description });
    this.held = held;
  }

  private startThread(queue: number, extra: boolean): Promise<void> {
    const { log, limits } = this.options;
    const slot = this.freeSlots.pop();
    if (slot === undefined) {
      log.error("no activity slot for another service thread", { queue });
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
      cpus: [this.options.cpus[queue]!],
      served: this.options.served,
      files: this.files,
      bufferOwners: this.bufferOwners,
      stage: this.stage,
      control: this.control.buffer as SharedArrayBuffer,
      faults: this.options.faults,
      retireAfterMs: extra ? limits.retireAfterMs : null,
      busyThreshold: limits.busyThreshold,
      activity: this.activityBuffer,
      activitySlot: slot,
      changes: this.changes.shared,
      besideClients: this.options.besideClients,
      frontRegionPath: this.options.frontRegionPath,
      counters: this.counters.shared,
    };
    return new Promise((resolve) => {
      worker.onmessage = (event: MessageEvent<ServiceThreadMessage>) => {
        const message = event.data;
        switch (message.type) {
          case "ready":
            if (message.pinned !== 0) log.warn("service thread not pinned", { queue, errno: message.pinned });
            resolve();
            return;
          case "busy":
            if (!this.stopped && set.size - this.heldOn(queue) < limits.maxThreadsPerQueue) {
              log.debug("queue busy: adding a service thread", { queue, pending: message.pending });
              void this.startThread(queue, true);
            }
            return;
          case "retired":
            set.delete(worker);
            this.slots.delete(worker);
            this.freeSlots.push(slot);
            return;
          case "bug":
            log.error("request handler failed; answered EIO", { operation: message.operation, error: message.message, stack: message.stack });
            return;
        }
      };
      worker.addEventListener("error", (event) => log.error("service thread crashed", { queue, error: (event as ErrorEvent).message }));
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
    Atomics.store(this.control, CONTROL.stop, 1);
    this.registry.close(this.options.socketPath);
    this.region.close();
    const workers = [...this.threads.values()].flatMap((set) => [...set]);
    await Promise.race([Promise.all(workers.map((w) => new Promise((resolve) => w.addEventListener("close", resolve)))), Bun.sleep(1000)]);
    for (const worker of workers) worker.terminate();
    this.region.unlink();
  }
}
