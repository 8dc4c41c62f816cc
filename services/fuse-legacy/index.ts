/** @module fuse-legacy — the kernel path (paper §3.2): a FUSE server per mount that needs exec, mmap or unmodified binaries. */
import { existsSync, mkdirSync, rmdirSync } from "node:fs";
import type { ServiceContext, ServiceDefinition } from "../../kernel/service-host/index.ts";
import { MOUNT, umount2 } from "../../kernel/sys/libc.ts";
import { isMountPoint } from "../../kernel/sys/mounts.ts";
import { localDataPath, routerSocketPath } from "../ipc-router/index.ts";
import { registerServingThreads } from "./client-opener.ts";
import { FuseServer, type FileSystemOpener } from "./server/index.ts";
import type { StorageSpec } from "./storage-opener.ts";

export { FuseServer } from "./server/index.ts";

const CLIENT_OPENER = new URL("./client-opener.ts", import.meta.url).href;
const STORAGE_OPENER = new URL("./storage-opener.ts", import.meta.url).href;
/** How long a FUSE mount waits for the tenant service (started just before it) to accept its registration. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Pause before serving a mount again after its serving Workers died (in the data-path process). */
const REMOUNT_DELAY_MS = 200;

/** How a mount's serving Workers reach the tenant's data path, and what to release once the mount is gone. */
interface Route {
  readonly opener: FileSystemOpener;
  /** "ring": through the shared-memory client (own process); "in-process": from the tenant storage of this process. */
  readonly via: "ring" | "in-process";
  close(): void;
}

/**
 * The way to the data path for `mountPath`: straight from the tenant storage when the ipc-router runs in this process
 * (the tenant's topology groups them), else one registration with the tenant service whose thread grants go to the
 * serving Workers. Throws when the tenant service does not serve the mount.
 */
async function routeTo(ctx: ServiceContext, mountPath: string): Promise<Route> {
  const local = localDataPath();
  if (local !== undefined) {
    const mount = local.mounts.find((m) => m.path === mountPath);
    if (mount === undefined) throw new Error(`the tenant service does not serve ${mountPath} (served: ${local.mounts.map((m) => m.path).join(", ") || "none"})`);
    const spec: StorageSpec = { storage: local.storage, branches: mount.branches };
    return { opener: { module: STORAGE_OPENER, spec }, via: "in-process", close: () => undefined };
  }
  const registration = await registerServingThreads(routerSocketPath(ctx.runtime.runDir), mountPath, ctx.tenant.fuse.threads, CONNECT_TIMEOUT_MS);
  return { opener: { module: CLIENT_OPENER, spec: registration.spec }, via: "ring", close: () => registration.close() };
}

/** Detaches a mount a dead server left (ENOTCONN), so a new one can mount there. */
function detachStale(ctx: ServiceContext, path: string): void {
  if (!isMountPoint(path)) return;
  umount2(Buffer.from(`${path}\0`), MOUNT.MNT_DETACH);
  ctx.log.warn("detached a stale mount left by a previous FUSE server", { mount: path });
}

/**
 * The fuse-legacy service: for every mount with `legacy = true`, a FUSE mount at the mount point, served by
 * `[fuse] threads` Workers that forward each kernel request into the tenant's data path, so both paths share one cache
 * and one view. In its own process (the default topology) the Workers go through the shared-memory client, and a
 * serving Worker that dies makes the process exit for the supervisor to restart it. Grouped with the ipc-router
 * (`topology`), they call the tenant storage directly, one crossing fewer, and a mount whose Workers die is mounted
 * again in place without touching the data path. A mount a killed predecessor left (ENOTCONN) is detached lazily
 * before mounting again; a mount the tenant service does not serve is logged and skipped. Mounting needs root (a
 * tenant with its own `uid` cannot have legacy mounts). Page-cache use follows the tenant's `[fuse]`.
 */
export const fuseLegacyService: ServiceDefinition = {
  name: "fuse-legacy",
  async start(ctx) {
    const served = new Map<string, { server: FuseServer; route: Route }>();
    /** Mount points this process created: removed again (when empty) once unmounted. */
    const created: string[] = [];
    let stopping = false;
    const removeCreated = (path: string) => {
      try {
        rmdirSync(path);
      } catch {
        // Not empty, or still mounted: leave it.
      }
    };

    /** Mounts and serves `path`; false (logged) when it cannot be served. */
    const serve = async (path: string): Promise<boolean> => {
      detachStale(ctx, path);
      let route: Route | undefined;
      let server: FuseServer;
      try {
        route = await routeTo(ctx, path);
        server = await FuseServer.start({
          mountPoint: path,
          opener: route.opener,
          threads: ctx.tenant.fuse.threads,
          directIo: ctx.tenant.fuse.directIo,
          attrTimeoutMs: ctx.tenant.fuse.attrTimeoutMs,
          entryTimeoutMs: ctx.tenant.fuse.entryTimeoutMs,
          negativeTimeoutMs: ctx.tenant.fuse.negativeTimeoutMs,
          logger: ctx.log,
          name: `danaus.${ctx.tenant.name}`,
          startTimeoutMs: CONNECT_TIMEOUT_MS + 5000,
        });
      } catch (error) {
        // One mount the tenant service does not serve (or cannot be mounted) must not take the others down.
        route?.close();
        ctx.log.error("legacy mount not served", { mount: path, error: error instanceof Error ? error.message : String(error) });
        return false;
      }
      const via = route.via;
      served.set(path, { server, route });
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
    };
    try {
      for (const mount of ctx.tenant.mounts.filter((m) => m.legacy)) {
        if (!existsSync(mount.path)) {
          mkdirSync(mount.path, { recursive: true });
          created.push(mount.path);
        }
        if (!(await serve(mount.path)) && created.includes(mount.path)) removeCreated(mount.path);
      }
    } catch (error) {
      await stopAll();
      throw error;
    }
    return {
      async stop() {
        await stopAll();
        for (const path of created) removeCreated(path);
      },
    };
  },
};
