/**
 * @module tenant-stack — how a tenant's data path is assembled from its services, and which transport joins them.
 *
 * The data services are ipc-router (the front: the applications' queues, registrations, open-file and mount tables),
 * union (the union instances: branch tables, copy-up, whiteouts, merged readdir) and client-cache (the backend client
 * and the shared cache with its write-back). The tenant's `topology` groups services into processes. Within one
 * process a service calls the next one as a function (the default: all three together). Between processes it calls
 * through a channel: the downstream process serves a mount table over a region and a socket of its own (the same
 * server as the front, see router.ts), and the upstream process registers with it like any client
 * ({@link ServingRegistration}), one request buffer per serving thread, renewed when the downstream service restarts.
 * Either way the upstream sees the FileSystem contract: the code of a service does not change with its placement.
 *
 * What each process serves:
 * - the front (ipc-router) serves the tenant's mounts at their mount points;
 * - a client-cache process without the front serves one channel mount per backend directory the others need
 *   (`branch:<dir>`: direct mounts' sources, and the branches of union mounts whose union runs elsewhere), and the
 *   union mounts themselves when union shares its process;
 * - a union process without client-cache and the front serves the tenant's union mounts at their mount points, each
 *   a union over channel branches of the client-cache process.
 *
 * Isolation: every channel is a region and a socket in the tenant's own run directory and shared-memory prefix, mode
 * 0600 and owned by the tenant's user, as the applications' region is; no process opens another tenant's channel.
 */
import { join } from "node:path";
import type { ServiceName, TenantConfig } from "../kernel/config/index.ts";
import { HandleTable, RenewingFileSystem, type SharedRegionView } from "../shims/ts/index.ts";
import { attachMount, type MountBranches, type StorageShared } from "./client-cache/index.ts";
import type { FrontMapping, MountEntry } from "../kernel/ipc/server/index.ts";
import type { FileSystem } from "../kernel/ipc/protocol/index.ts";
import { type RenameDir, UnionFileSystem, type UnionShared } from "./union/index.ts";

/** The services of the data path. */
export type DataService = "ipc-router" | "union" | "client-cache";

/** A service that can run a channel server of its own (the front's server is the ipc-router). */
export type ChannelHost = "union" | "client-cache";

/** The process group (topology index) of each data service. */
export type Placement = Readonly<Record<DataService, number>>;

/** Where the data services of `topology` run. Throws when one is missing (the config checks rule that out). */
export function placementOf(topology: readonly (readonly ServiceName[])[]): Placement {
  const at = (service: DataService) => {
    const index = topology.findIndex((group) => group.includes(service));
    if (index < 0) throw new Error(`the topology runs no ${service}`);
    return index;
  };
  return { "ipc-router": at("ipc-router"), union: at("union"), "client-cache": at("client-cache") };
}

/**
 * Which server a process runs for the data path: "ipc-router" (the front), a channel host, or none (its data services
 * are served by another service of the same process).
 */
export function serverOf(placement: Placement, group: number): DataService | null {
  if (placement["ipc-router"] === group) return "ipc-router";
  if (placement["client-cache"] === group) return "client-cache";
  if (placement.union === group) return "union";
  return null;
}

/** The channel host serving `service` (a process with union and client-cache serves both on client-cache's channel). */
export function hostOf(placement: Placement, service: ChannelHost): ChannelHost {
  return service === "union" && placement.union === placement["client-cache"] ? "client-cache" : service;
}

/** The registration socket of channel host `host` in the tenant's run directory. */
export function channelSocketPath(runDir: string, host: ChannelHost): string {
  return join(runDir, `${host}.sock`);
}

/** The region file of channel host `host` (under the tenant's shared-memory prefix). */
export function channelRegionPath(shmPrefix: string, host: ChannelHost): string {
  return `${shmPrefix}region-${host}`;
}

/** The mount path under which the client-cache channel serves backend directory `dir` (relative to the tenant root). */
export function branchMountPath(dir: string): string {
  return `branch:${dir}`;
}

/** A mount served over a channel: the grant board of the registration and the mount's path on the downstream server. */
export interface ChannelMount {
  readonly via: "channel";
  readonly board: SharedArrayBuffer;
  /**
   * The registration's handle table: the downstream's descriptors take 30 bits, while the front keeps handles in int32
   * and the union in 26 bits, so handles on a channel are slots of this table (shared by the process's threads).
   */
  readonly handles: SharedArrayBuffer;
  readonly path: string;
}

/** How a serving thread attaches one mount it serves. Structured-cloneable (it goes to Workers). */
export type Attach =
  /** The cache over the backend in this process (and the union over such branches). */
  | { readonly via: "storage"; readonly branches: MountBranches }
  /** Another process's mount. */
  | ChannelMount
  /** The union in this process over branches served by the client-cache process. */
  | { readonly via: "union"; readonly upper: ChannelMount; readonly lowers: readonly ChannelMount[]; readonly renameDir?: RenameDir };

/** A mount a server serves: its entry in the server's mount table, and how its threads attach it. */
export interface StackMount extends MountEntry {
  readonly attach: Attach;
}

/** What a serving thread needs besides its mounts: the process's storage (when it runs client-cache) and union tables. */
export interface StackShared {
  readonly storage: StorageShared | null;
  readonly union: UnionShared;
}

/**
 * The filesystem instance of `attach` for serving thread `thread` (its grant index on every channel). `sharedRegion`
 * is the tenant's application region as the thread maps it: reads and writes into its request buffers go down a
 * channel by reference, and the process below fills or drains them in place.
 */
export function attachStackMount(shared: StackShared, attach: Attach, thread: number, sharedRegion?: () => SharedRegionView | null): FileSystem {
  switch (attach.via) {
    case "storage":
      if (shared.storage === null) throw new Error("a storage mount in a process that runs no client-cache");
      return attachMount(shared.storage, attach.branches);
    case "channel":
      // FIFO nodes are handed on up the chain, so the application's own thread waits for a FIFO's partner.
      return new RenewingFileSystem(attach.board, attach.path, thread, { names: new HandleTable(attach.handles), fifoNodes: true, ...(sharedRegion ? { sharedRegion } : {}) });
    case "union": {
      const branch = (m: ChannelMount) => attachStackMount(shared, m, thread, sharedRegion);
      const options = attach.renameDir === undefined ? {} : { renameDir: attach.renameDir };
      return new UnionFileSystem({ upper: branch(attach.upper), lowers: attach.lowers.map(branch) }, shared.union, options);
    }
  }
}

/**
 * The service threads' builder (kernel/ipc/server's `AttachMounts`, named by module to every data-path server's
 * threads): `data` is `{ stack, mounts }` as data-path-server.ts hands it; one instance per mount, by mount id.
 */
export function attachMounts(data: unknown, thread: number, front: () => FrontMapping | null): (FileSystem | undefined)[] {
  const { stack, mounts } = data as { stack: StackShared; mounts: StackMount[] };
  const instances: (FileSystem | undefined)[] = [];
  for (const mount of mounts) instances[mount.id] = attachStackMount(stack, mount.attach, thread, front);
  return instances;
}

/** A registration with a channel host, as {@link planMounts} uses it. */
export interface Downstream {
  readonly board: SharedArrayBuffer;
  readonly handles: SharedArrayBuffer;
  /** The paths the host serves now. */
  readonly paths: ReadonlySet<string>;
}

/** A mount of the tenant a server does not serve, and why. */
export interface SkippedMount {
  readonly path: string;
  readonly reason: string;
}

/** What the server of process group `group` needs to plan its mounts. */
export interface PlanInputs {
  readonly tenant: TenantConfig;
  readonly group: number;
  /** The backend paths among a list that are not directories (with client-cache in this process). */
  readonly missing?: (paths: readonly string[]) => string[];
  /** The registration with channel host `host` (opened by the caller for every host {@link downstreamOf} names). */
  readonly downstream: (host: ChannelHost) => Downstream;
}

/** The channel hosts the server of process group `group` registers with. */
export function downstreamOf(tenant: TenantConfig, group: number): ChannelHost[] {
  const placement = placementOf(tenant.topology);
  const server = serverOf(placement, group);
  const hosts = new Set<ChannelHost>();
  const cacheHere = placement["client-cache"] === group;
  const unionHere = placement.union === group;
  for (const mount of tenant.mounts) {
    if (server === "ipc-router") {
      if (mount.kind === "direct" ? !cacheHere : !unionHere) hosts.add(hostOf(placement, mount.kind === "direct" ? "client-cache" : "union"));
      else if (mount.kind === "union" && !cacheHere) hosts.add("client-cache");
    } else if (server === "union" && mount.kind === "union") {
      hosts.add("client-cache");
    }
  }
  return [...hosts].sort();
}

/**
 * The mounts the server of process group `group` serves, in a stable order (ids are indexes), and the tenant mounts
 * it leaves out (a union mount whose branches are not on the backend).
 */
export function planMounts(inputs: PlanInputs): { served: StackMount[]; skipped: SkippedMount[] } {
  const { tenant, group } = inputs;
  const placement = placementOf(tenant.topology);
  const server = serverOf(placement, group);
  const served: StackMount[] = [];
  const skipped: SkippedMount[] = [];
  const cacheHere = placement["client-cache"] === group;
  const unionHere = placement.union === group;
  const add = (entry: Omit<StackMount, "id">) => served.push({ ...entry, id: served.length });
  const missingHere = (paths: readonly string[]) => inputs.missing?.(paths) ?? [];
  const channel = (host: ChannelHost, path: string): ChannelMount | null => {
    const downstream = inputs.downstream(host);
    return downstream.paths.has(path) ? { via: "channel", board: downstream.board, handles: downstream.handles, path } : null;
  };
  const missingBranches = (lowers: readonly string[]) => `lower branches missing on the backend: ${lowers.join(", ")} (import the image first)`;
  /** A union mount whose union runs here: over the cache of this process, or over the client-cache channel's branches. */
  const unionHereAttach = (mount: Extract<TenantConfig["mounts"][number], { kind: "union" }>): Attach | string => {
    const renameDir = mount.renameDir !== undefined ? { renameDir: mount.renameDir } : {};
    if (cacheHere) {
      const absent = missingHere(mount.lowers);
      return absent.length > 0 ? missingBranches(absent) : { via: "storage", branches: { kind: "union", upper: mount.upper, lowers: mount.lowers, ...renameDir } };
    }
    const upper = channel("client-cache", branchMountPath(mount.upper));
    const lowers = mount.lowers.map((dir) => channel("client-cache", branchMountPath(dir)));
    const absent = mount.lowers.filter((_, i) => lowers[i] === null);
    if (upper === null || absent.length > 0) return missingBranches(upper === null ? [mount.upper, ...absent] : absent);
    return { via: "union", upper, lowers: lowers as ChannelMount[], ...renameDir };
  };
  const addOrSkip = (mount: TenantConfig["mounts"][number], attach: Attach | string) => {
    if (typeof attach === "string") skipped.push({ path: mount.path, reason: attach });
    else add({ path: mount.path, kind: mount.kind, legacy: mount.legacy, attach });
  };

  if (server !== "ipc-router") {
    // A channel host: the branch mounts (client-cache) and the union mounts whose union runs here.
    const branches = new Set<string>();
    for (const mount of tenant.mounts) {
      if (mount.kind === "direct") branches.add(mount.source);
      else if (!unionHere) for (const dir of [mount.upper, ...mount.lowers]) branches.add(dir);
    }
    if (cacheHere) {
      const absent = new Set(missingHere([...branches]));
      for (const dir of branches) if (!absent.has(dir)) add({ path: branchMountPath(dir), kind: "direct", attach: { via: "storage", branches: { kind: "direct", source: dir } } });
    }
    if (unionHere) for (const mount of tenant.mounts) if (mount.kind === "union") addOrSkip(mount, unionHereAttach(mount));
    return { served, skipped };
  }

  // The front: the tenant's mounts at their mount points.
  for (const mount of tenant.mounts) {
    if (mount.kind === "direct") {
      addOrSkip(mount, cacheHere ? { via: "storage", branches: { kind: "direct", source: mount.source } } : (channel("client-cache", branchMountPath(mount.source)) ?? `client-cache does not serve its source ${mount.source}`));
    } else if (unionHere) {
      addOrSkip(mount, unionHereAttach(mount));
    } else {
      addOrSkip(mount, channel(hostOf(placement, "union"), mount.path) ?? "the union service does not serve it (see its log: lower branches missing on the backend?)");
    }
  }
  return { served, skipped };
}
