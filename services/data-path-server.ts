/**
 * @module data-path-server — the ring server each process of a tenant's data path runs (paper §3.5, §4.1): the front
 * (the ipc-router, which applications reach) or, in a split topology, the channel host of a union or client-cache
 * process, which serves the process above it. It creates its region (one request queue per core of the tenant), runs
 * service threads pinned to each queue's core (more while a queue is busy) from the kernel's serving end
 * (kernel/ipc/server), keeps the open-file table and the mount table, registers clients, opens the tenant's storage
 * when client-cache runs in its process, and registers with the channel hosts it serves from. What its threads serve
 * is planned by tenant-stack.ts.
 */
import { publishStats, type ServiceContext } from "../kernel/service-host/index.ts";
import { TenantStorage } from "./client-cache/index.ts";
import { createUnionShared } from "./union/index.ts";
import {
  attachStackMount, channelRegionPath, channelSocketPath, downstreamOf, placementOf, planMounts, type ChannelHost, type DataService,
  type Downstream, type StackMount, type StackShared,
} from "./tenant-stack.ts";
import { ServingRegistration } from "../shims/ts/index.ts";
import type { FileSystem } from "../kernel/ipc/protocol/index.ts";
import {
  DEFAULT_LIMITS, RingServer, routerSocketPath, threadSlotsOf, type MountEntry, type RingLimits,
} from "../kernel/ipc/server/index.ts";

/** A data-path server's limits: the ring server's. */
export type RouterLimits = RingLimits;
export { DEFAULT_LIMITS };

/**
 * The limits of `tenant`'s server in `role`. The front's: the defaults, plus one request buffer per serving thread and
 * one per registration for every legacy mount fuse-legacy reaches through the ring (its own process), so however many
 * legacy mounts a tenant has, they never run out of buffers nor take those of its other clients.
 */
export function limitsFor(tenant: ServiceContext["tenant"], role: DataService = "ipc-router"): RouterLimits {
  if (role !== "ipc-router") {
    // A channel host's clients are the serving threads of the (at most two) servers above it, each with one buffer per
    // thread it may run and one for its main thread (see tenant-stack.ts), and a few for tools.
    return { ...DEFAULT_LIMITS, bufferCount: 2 * (threadSlotsOf(tenant.cpus) + 1) + 8, heldAfterMs: tenant.heldRequestMs };
  }
  const inProcess = tenant.topology.some((group) => group.includes("fuse-legacy") && group.includes("ipc-router"));
  const legacy = inProcess ? 0 : tenant.mounts.filter((m) => m.legacy).length;
  return { ...DEFAULT_LIMITS, bufferCount: DEFAULT_LIMITS.bufferCount + legacy * (tenant.fuse.threads + 1), heldAfterMs: tenant.heldRequestMs };
}

/** How long a server waits at start for a channel host it serves from (started before it by the supervisor). */
const DOWNSTREAM_TIMEOUT_MS = 30_000;

const STATS_INTERVAL_MS = 1000;
/** The module whose `attachMounts` the service threads build their instances with. */
const ATTACH_MODULE = new URL("./tenant-stack.ts", import.meta.url).href;

/** A running data-path server. */
export class DataPathServer {
  /** Publishes the server's and the cache's counters for `danaus status` every second. */
  private readonly statsTimer: ReturnType<typeof setInterval>;

  private constructor(
    private readonly ctx: ServiceContext,
    private readonly role: DataService,
    /** The ring server the threads run in. */
    readonly ring: RingServer,
    /** The tenant's storage, when client-cache runs in this process. */
    readonly storage: TenantStorage | null,
    private readonly downstream: ReadonlyMap<ChannelHost, ServingRegistration>,
    /** The mounts this server serves, and how each is attached. */
    readonly served: StackMount[],
    /** What the main thread serves (it closes the files of clients that died), indexed by mount id. */
    readonly mainMounts: (FileSystem | undefined)[],
    /** The mount table clients receive. */
    readonly mountTable: MountEntry[],
  ) {
    this.statsTimer = setInterval(() => this.publishStats(), STATS_INTERVAL_MS);
  }

  /** The region file of `ctx`'s tenant: the applications' (the front's), or channel host `role`'s. */
  static regionPath(ctx: ServiceContext, role: DataService = "ipc-router"): string {
    return role === "ipc-router" ? `${ctx.runtime.shmPrefix}region` : channelRegionPath(ctx.runtime.shmPrefix, role);
  }

  /**
   * Starts the server of `role` (see tenant-stack.ts): the front (the applications' ipc-router) or the channel host of
   * a union or client-cache process. The channel hosts it serves from are registered with first (the supervisor
   * starts them before); the tenant storage is opened when client-cache runs in this process; then the ring server
   * starts, its threads building their instances with tenant-stack's `attachMounts`.
   */
  static async start(ctx: ServiceContext, role: DataService, limits: RouterLimits = limitsFor(ctx.tenant, role)): Promise<DataPathServer> {
    const tenant = ctx.tenant;
    const group = placementOf(tenant.topology)[role];
    const slots = threadSlotsOf(tenant.cpus, limits);
    const downstream = new Map<ChannelHost, ServingRegistration>();
    let storage: TenantStorage | null = null;
    const closeAll = async () => {
      for (const registration of downstream.values()) registration.close();
      await storage?.close();
    };
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
      const opened = storage;
      const reach = (host: ChannelHost): Downstream => {
        const registration = downstream.get(host)!;
        return { ...registration.spec, paths: new Set(registration.mounts.map((m) => m.path)) };
      };
      const { served, skipped } = planMounts({ tenant, group, downstream: reach, ...(opened !== null ? { missing: (paths) => opened.missingDirectories(paths) } : {}) });
      for (const mount of skipped) ctx.log.error("mount not served", { ...mount });
      const stack: StackShared = { storage: storage?.shared ?? null, union: storage?.shared.union ?? createUnionShared() };
      // The main thread closes the files of clients that died: it has the request buffer after the threads' on channels.
      const mainMounts: (FileSystem | undefined)[] = [];
      for (const mount of served) mainMounts[mount.id] = attachStackMount(stack, mount.attach, slots);
      const mountTable = served.map(({ path, id, kind, legacy }) => ({ path, id, kind, legacy }));
      const regionPath = DataPathServer.regionPath(ctx, role);
      const socketPath = role === "ipc-router" ? routerSocketPath(ctx.runtime.runDir) : channelSocketPath(ctx.runtime.runDir, role);
      const ring = await RingServer.start({
        log: ctx.log,
        cpus: tenant.cpus,
        limits,
        regionPath,
        socketPath,
        mountTable,
        mainMounts,
        served: { module: ATTACH_MODULE, data: { stack, mounts: served } },
        faults: ctx.faults.shared,
        besideClients: role !== "ipc-router",
        frontRegionPath: DataPathServer.regionPath(ctx),
        attrTimeoutMs: Math.floor(tenant.fuse.attrTimeoutMs),
        maxDirStreams: tenant.maxDirStreams,
      });
      ctx.log.info(`${role} serving`, { region: regionPath, socket: socketPath, queues: tenant.cpus.length, mounts: served.map((m) => m.path), from: [...downstream.keys()], epoch: ring.epoch });
      return new DataPathServer(ctx, role, ring, storage, downstream, served, mainMounts, mountTable);
    } catch (error) {
      await closeAll();
      throw error;
    }
  }

  /**
   * Writes this server's counters, and the cache's when the storage is in this process, to the tenant's run directory,
   * where `danaus status` reads them: the front's under "ipc-router", a channel host's under its service (merged with
   * the cache's for client-cache). `mounts` counts what it serves (channel mounts included).
   */
  private publishStats(): void {
    try {
      const cache = this.storage?.stats() ?? null;
      const { clients, openFiles, buffersInUse, threads, queued, held } = this.ring.stats();
      const server = {
        clients,
        openFiles,
        buffersInUse,
        serviceThreads: threads.reduce((a, b) => a + b, 0),
        // Its request queues (one per core of the tenant), and the requests waiting in them now.
        queues: queued.length,
        queuedRequests: queued.reduce((a, b) => a + b, 0),
        heldRequests: held.length,
        // What this process holds: the mounts it serves, the backend client and cache (1 when opened here), the union
        // instances its threads run, and the channels it serves from.
        mounts: this.served.length,
        storage: this.storage === null ? 0 : 1,
        unionMounts: this.served.filter((m) => m.attach.via === "union" || (m.attach.via === "storage" && m.attach.branches.kind === "union")).length,
        channels: this.downstream.size,
        // Bytes read or written in place in the applications' region on requests from the process above.
        referencedBytes: this.ring.counter("referencedBytes"),
        // Bytes copied between two of its files on requests from the process above (a union's copy-up).
        copiedBytes: this.ring.counter("copiedBytes"),
        // Requests its threads answered, and the time from taking them to answering (with what they waited for below).
        requests: this.ring.counter("requests"),
        busyMicros: this.ring.counter("busyMicros"),
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

  /** Stops serving (the ring server first: blocked clients fail with ENOTCONN at once), then the channels below and the storage. */
  async stop(): Promise<void> {
    clearInterval(this.statsTimer);
    await this.ring.stop();
    for (const registration of this.downstream.values()) registration.close();
    await this.storage?.close();
  }
}
