/**
 * @module service-thread — one service thread of a ring server (a Bun Worker): pinned to its queue's cores, it takes
 * requests off that queue, serves them through its own filesystem instances and completes them, until told to stop.
 * Which instances it serves is the server's business, not the kernel's: the thread builds them with the `attachMounts`
 * of the module its init names (services/tenant-stack.ts for a tenant's data path).
 */
import { FaultState } from "../../service-host/index.ts";
import { pinThread } from "../../sys/libc.ts";
import { ActivityTable } from "./activity.ts";
import { ChangeLog } from "./change-log.ts";
import { dispatch, type DispatchContext } from "./dispatch.ts";
import { FileTable } from "./file-table.ts";
import { PathStage, type PathStageShared } from "./path-stage.ts";
import { FrontRegion, type FrontMapping } from "./front-region.ts";
import { GcPacer } from "./gc-pacer.ts";
import { ServerCounters, ServiceTimer } from "./server-counters.ts";
import { ERRNO, operationByOpcode, type FileSystem } from "../protocol/index.ts";
import { Region, RequestQueue } from "../ring/index.ts";

/** Words of the control block shared between the router and its threads. */
export const CONTROL = { stop: 0, threads: 1 } as const;

/**
 * Builds a thread's filesystem instances, indexed by mount id, from the server's plain `data`: `thread` is the
 * thread's slot (unique among the server's threads), `front` the application region as mapped now (for bulk data
 * passed by reference).
 */
export type AttachMounts = (data: unknown, thread: number, front: () => FrontMapping | null) => (FileSystem | undefined)[];

/** What a server hands a service thread when it starts it. */
export interface ServiceThreadInit {
  regionAddress: number;
  queue: number;
  cpus: number[];
  /** The module (URL) whose export `attachMounts` ({@link AttachMounts}) builds the thread's instances from `data`. */
  served: { module: string; data: unknown };
  files: SharedArrayBuffer;
  bufferOwners: SharedArrayBuffer;
  /** Paths staged ahead of their requests (path-stage.ts). */
  stage: PathStageShared;
  control: SharedArrayBuffer;
  faults: SharedArrayBuffer;
  /** An extra thread retires after this long without a request; the first thread of a queue never does. */
  retireAfterMs: number | null;
  /** Ask for another thread when this many requests wait in the queue after a take. */
  busyThreshold: number;
  /** The router's activity table, and this thread's slot in it (what it serves, for the watchdog). */
  activity: SharedArrayBuffer;
  activitySlot: number;
  /** The router's {@link ChangeLog}: files and names clients changed, for fuse-legacy's watchers. */
  changes: SharedArrayBuffer;
  /** A channel host: every client is a service thread of the process above, on this thread's cores. */
  besideClients: boolean;
  /** The front's region file (the tenant's application region). */
  frontRegionPath: string;
  /** The server's {@link ServerCounters}, for its status. */
  counters: SharedArrayBuffer;
}

/** Messages a service thread posts to the router. */
export type ServiceThreadMessage =
  | { type: "ready"; queue: number; pinned: number }
  | { type: "busy"; queue: number; pending: number }
  | { type: "retired"; queue: number }
  | { type: "bug"; operation: string; message: string; stack?: string };

const TAKE_SLICE_MS = 200;

function operationName(opcode: number): string {
  return operationByOpcode(opcode)?.name ?? `opcode ${opcode}`;
}

/** Runs a service thread until the server sets the stop word (or, for an extra thread, until it is idle long enough). */
export function runServiceThread(init: ServiceThreadInit, attachMounts: AttachMounts, post: (message: ServiceThreadMessage) => void): void {
  const pinned = pinThread(init.cpus);
  const region = Region.attach(init.regionAddress);
  // Clients may share this thread's core (fuse-legacy always does, and a tenant's containers run in its pool): a quick
  // wake then means our spinning kept the client off the core, so it must not grow the spin (bench fuse: stat through
  // the FUSE mount 2.8k -> 20k ops/s; a client on another core kept its 30 us lstat).
  // A channel host's clients are the service threads of the process above, pinned to the same cores: it never spins
  // for the next request, which would only keep them off the core (bench ipc, per-topology table).
  const queue = new RequestQueue(region, init.queue, { peerCpus: init.cpus, ...(init.besideClients ? { spin: 0, takeSpinFloor: 0 } : {}) });
  const control = new Int32Array(init.control);
  const faults = FaultState.attach(init.faults);
  const activity = new ActivityTable(init.activity);
  // The application region: the front's own, or (a channel host) the front's file, mapped on the first reference.
  const counters = new ServerCounters(init.counters);
  const timer = new ServiceTimer(counters);
  const front = init.besideClients ? FrontRegion.at(init.frontRegionPath) : FrontRegion.own(region);
  // The thread's activity slot is also its request buffer on every channel the server reaches (tenant-stack.ts).
  const mounts = attachMounts(init.served.data, init.activitySlot, () => front.current());
  const changes = new ChangeLog(init.changes);
  const ctx: DispatchContext = {
    ...(init.besideClients
      ? { front, referenced: (bytes: number) => counters.add("referencedBytes", bytes), copied: (bytes: number) => counters.add("copiedBytes", bytes) }
      : {}),
    mounts,
    files: new FileTable(init.files),
    bufferOwners: new Int32Array(init.bufferOwners),
    stage: new PathStage(init.stage),
    buffer: (index) => region.buffer(index),
    onBug: (error, operation) => post({ type: "bug", operation, message: String((error as Error)?.message ?? error), stack: (error as Error)?.stack }),
    mutated: () => region.bumpMutations(),
    watching: (client) => changes.watched && !changes.isQuiet(client),
    named: (client, mount, kind, path, to, file) => {
      if (!changes.seen(client, `n${kind}:${mount}:${file?.st_dev}:${file?.st_ino}:${path}\0${to}`)) changes.recordName(client, mount, kind, path, to, file);
    },
    changed: (client, file, stat) => {
      if (!changes.watched || changes.isQuiet(client) || changes.seen(client, file)) return;
      let st: { readonly st_dev: number; readonly st_ino: number };
      try {
        st = stat();
      } catch {
        return; // the write stands; a file that cannot be stat'ed now is not told
      }
      changes.record(client, st.st_dev, st.st_ino);
    },
  };
  post({ type: "ready", queue: init.queue, pinned });

  let idleSince = performance.now();
  let lastBusy = 0;
  // This loop never returns to the event loop, so nothing else would collect each request's garbage (gc-pacer.ts).
  const gc = new GcPacer();
  while (Atomics.load(control, CONTROL.stop) === 0) {
    const taken = queue.take({ timeoutMs: TAKE_SLICE_MS });
    if (taken === null) {
      timer.flush();
      gc.idle();
      if (init.retireAfterMs !== null && performance.now() - idleSince > init.retireAfterMs) break;
      continue;
    }
    idleSince = performance.now();
    if (taken.status !== 0) {
      queue.complete(taken.slot, -taken.status);
      timer.answered(idleSince);
      continue;
    }
    activity.begin(init.activitySlot, init.queue, taken.slot, taken.request.opcode, taken.request.client);
    const delay = faults.latencyMs();
    if (delay > 0) Bun.sleepSync(delay);
    let weight = 1;
    try {
      const served = dispatch(ctx, taken.request);
      weight = served.weight;
      queue.complete(taken.slot, served.result, served.replyLength);
    } catch (error) {
      // A bug on our side (nothing a peer writes makes dispatch or complete throw): answer EIO and keep serving, since
      // a crashed thread would leave its queue, and every client on it, without a consumer.
      ctx.onBug(error, operationName(taken.request.opcode));
      try {
        queue.complete(taken.slot, -ERRNO.EIO);
      } catch {
        // The entry was not ours to complete any more; nothing left to answer.
      }
    }
    activity.end(init.activitySlot);
    timer.answered(idleSince);
    gc.served(weight);
    const pending = queue.pending();
    if (pending >= init.busyThreshold && idleSince - lastBusy > 50) {
      lastBusy = idleSince;
      post({ type: "busy", queue: init.queue, pending });
    }
  }
  timer.flush();
  for (const fs of mounts) (fs as { dispose?: () => void } | undefined)?.dispose?.();
  post({ type: "retired", queue: init.queue });
}
