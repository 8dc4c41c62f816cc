/** @module fuse-legacy — the kernel path (paper §3.2): a FUSE server per mount that needs exec, mmap or unmodified binaries. */
import type { ServiceContext, ServiceDefinition } from "../../kernel/service-host/index.ts";
import { localDataPath, routerSocketPath } from "../ipc-router/index.ts";
import { ERRNO, FsError } from "../../kernel/ipc/protocol/index.ts";
import { ChangeWatcher } from "./change-watcher.ts";
import { MountRegistration, type RegistrationEvents } from "./client-opener.ts";
import { MountPointError, prepareMountPoint, releaseMountPoint, type PreparedMountPoint } from "./mount-point.ts";
import { MountStatus } from "./mount-status.ts";
import { FuseMountError, FuseServer, type FileSystemOpener } from "./server/index.ts";
import type { StorageSpec } from "./storage-opener.ts";

export { FuseServer } from "./server/index.ts";

const CLIENT_OPENER = new URL("./client-opener.ts", import.meta.url).href;
const STORAGE_OPENER = new URL("./storage-opener.ts", import.meta.url).href;
/** How long a FUSE mount waits for the tenant service (started just before it) to accept its registration. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Pause before serving a mount again after its serving Workers died (in the data-path process). */
const REMOUNT_DELAY_MS = 200;
/** How often an in-process mount's change watcher is reopened when its connection is gone. */
const WATCH_REOPEN_MS = 100;

/** How a mount's serving Workers reach the tenant's data path, and what to release once the mount is gone. */
interface Route {
  readonly opener: FileSystemOpener;
  /** "ring": through the shared-memory client (own process); "in-process": from the tenant storage of this process. */
  readonly via: "ring" | "in-process";
  close(): void;
}

/**
 * The way to the data path for `mountPath`: straight from the tenant storage when the ipc-router runs in this process
 * (the tenant's topology groups them), else a registration with the tenant service whose thread grants go to the
 * serving Workers, renewed by itself after the service restarts (`events` hears how that goes). Throws when the
 * tenant service does not serve the mount (FsError ENOENT), has no request buffer left (EAGAIN) or does not answer.
 */
async function routeTo(ctx: ServiceContext, mountPath: string, events: RegistrationEvents): Promise<Route> {
  const local = localDataPath();
  if (local !== undefined) {
    const mount = local.mounts.find((m) => m.path === mountPath);
    if (mount === undefined) {
      const error = new FsError(ERRNO.ENOENT, "mount", mountPath);
      error.message = `ENOENT: the tenant service does not serve ${mountPath} (served: ${local.mounts.map((m) => m.path).join(", ") || "none"})`;
      throw error;
    }
    const spec: StorageSpec = { storage: local.storage, branches: mount.branches, regionAddress: local.regionAddress };
    // Clients of other processes still write through this process's service threads: hear which files.
    const onChanged = events.changed;
    if (onChanged === undefined) return { opener: { module: STORAGE_OPENER, spec }, via: "in-process", close: () => undefined };
    const watcher = new ChangeWatcher(routerSocketPath(ctx.runtime.runDir), mountPath, onChanged);
    const timer = setInterval(() => watcher.keepOpen(), WATCH_REOPEN_MS);
    watcher.keepOpen();
    const close = () => {
      clearInterval(timer);
      watcher.close();
    };
    return { opener: { module: STORAGE_OPENER, spec }, via: "in-process", close };
  }
  const registration = await MountRegistration.open(routerSocketPath(ctx.runtime.runDir), mountPath, ctx.tenant.fuse.threads, CONNECT_TIMEOUT_MS, events);
  return { opener: { module: CLIENT_OPENER, spec: registration.spec }, via: "ring", close: () => registration.close() };
}

/** The errno a failure to serve a mount is reported with. */
function errnoOf(error: unknown): number {
  if (error instanceof FsError || error instanceof MountPointError || error instanceof FuseMountError) return error.errno;
  return ERRNO.EIO;
}

/**
 * The fuse-legacy service: for every mount with `legacy = true`, a FUSE mount at the mount point, served by
 * `[fuse] threads` Workers that forward each kernel request into the tenant's data path, so both paths share one cache
 * and one view. In its own process (the default topology) the Workers go through the shared-memory client, whose
 * registration renews itself when the tenant service restarts (new opens work again; handles of the old service answer
 * ESTALE), and a serving Worker that dies makes the process exit for the supervisor to restart it. Grouped with the
 * ipc-router (`topology`), they call the tenant storage directly, one crossing fewer, and a mount whose Workers die is
 * mounted again in place without touching the data path. Before mounting, a mount point is made ready whatever its
 * state (a dead or stale FUSE mount is detached, a missing directory created) and sealed immutable, so that whenever it
 * is not served it refuses writes rather than taking them into the host's filesystem (see mount-point.ts). A mount
 * that cannot be served is logged, skipped and reported in `danaus status` (see mount-status.ts). Mounting needs root
 * (a tenant with its own `uid` cannot have legacy mounts). Page-cache use follows the tenant's `[fuse]`; a `slow`
 * fault delays every FUSE request. Each mount watches which files clients of other processes write, and which of its
 * names they change, through the tenant service (change-watcher.ts), and has the kernel drop its cached pages,
 * attributes and entries of them. Every name of one
 * file is one node on union mounts too: the union keeps a hard-linked lower file one file across copy-up.
 */
export const fuseLegacyService: ServiceDefinition = {
  name: "fuse-legacy",
  async start(ctx) {
    const served = new Map<string, { server: FuseServer; route: Route }>();
    const points = new Map<string, PreparedMountPoint>();
    const status = new MountStatus(ctx.runtime.runDir, ctx.log);
    let stopping = false;

    const unserved = (path: string, error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      status.markUnserved(path, errnoOf(error), message);
      ctx.log.error("legacy mount not served", { mount: path, error: message });
    };

    /** Mounts and serves `path`; false (logged and reported) when it cannot be served. */
    const serve = async (path: string): Promise<boolean> => {
      let route: Route | undefined;
      let server: FuseServer | undefined;
      try {
        const point = prepareMountPoint(path);
        points.set(path, point);
        if (point.detached > 0) ctx.log.warn("detached a mount left by a previous FUSE server", { mount: path, detached: point.detached });
        if (!point.sealed) ctx.log.warn("mount point cannot be sealed (its filesystem has no immutable flag): while not served it takes writes", { mount: path });
        route = await routeTo(ctx, path, {
          served: () => {
            status.markServed(path);
            ctx.log.info("legacy mount served again by the restarted tenant service", { mount: path });
          },
          unserved: (problem) => unserved(path, problem),
          // Files other processes wrote, and names they changed, through the tenant service: the kernel drops their cached
          // pages, attributes and entries.
          changed: (files, names) => {
            try {
              server?.invalidateNames(names);
              server?.invalidate(files);
            } catch (error) {
              ctx.log.warn("invalidating the kernel's cache of changed files failed", { mount: path, error: error instanceof Error ? error.message : String(error) });
            }
          },
        });
        server = await FuseServer.start({
          mountPoint: path,
          opener: route.opener,
          threads: ctx.tenant.fuse.threads,
          directIo: ctx.tenant.fuse.directIo,
          attrTimeoutMs: ctx.tenant.fuse.attrTimeoutMs,
          entryTimeoutMs: ctx.tenant.fuse.entryTimeoutMs,
          negativeTimeoutMs: ctx.tenant.fuse.negativeTimeoutMs,
          maxNodes: ctx.tenant.fuse.maxNodes,
          faults: ctx.faults.shared,
          counters: status.counters.shared,
          logger: ctx.log,
          name: `danaus.${ctx.tenant.name}`,
          startTimeoutMs: CONNECT_TIMEOUT_MS + 5000,
        });
      } catch (error) {
        // One mount that cannot be served must not take the others down; its point stays sealed.
        route?.close();
        unserved(path, error);
        return false;
      }
      const via = route.via;
      served.set(path, { server, route });
      status.markServed(path);
      ctx.log.info("legacy mount served through FUSE", { mount: path, via, directIo: ctx.tenant.fuse.directIo, threads: ctx.tenant.fuse.threads, mountedBy: server.mountedBy });
      void server.stopped.then(async (reason) => {
        if (stopping) return;
        served.delete(path);
        route.close();
        if (via === "ring") {
          // A serving Worker died: the mount would hang. Exit, so the supervisor restarts fuse-legacy (which detaches
          // the dead mount and mounts again).
          ctx.log.error("a legacy mount stopped serving; exiting for a restart", { mount: path, reason });
          process.exit(1);
        }
        // In the data-path process: serve this mount again, leaving the data path and the other mounts alone.
        ctx.log.error("a legacy mount stopped serving; mounting it again", { mount: path, reason });
        await server.stop().catch(() => undefined);
        await Bun.sleep(REMOUNT_DELAY_MS);
        if (!stopping) await serve(path);
      });
      return true;
    };

    const stopAll = async () => {
      stopping = true;
      for (const [path, { server, route }] of [...served].reverse()) {
        await server.stop();
        route.close();
        served.delete(path);
      }
      for (const [path, point] of points) ctx.log.info("legacy mount point released", { mount: path, outcome: releaseMountPoint(path, point) });
      status.close();
    };
    try {
      for (const mount of ctx.tenant.mounts.filter((m) => m.legacy)) await serve(mount.path);
    } catch (error) {
      await stopAll();
      throw error;
    }
    return { stop: stopAll };
  },
};
