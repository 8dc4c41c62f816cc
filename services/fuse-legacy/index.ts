/** @module fuse-legacy — the kernel path (paper §3.2): a FUSE server per mount that needs exec, mmap or unmodified binaries. */
import { existsSync, mkdirSync, rmdirSync } from "node:fs";
import type { ServiceDefinition } from "../../kernel/service-host/index.ts";
import { MOUNT, umount2 } from "../../kernel/sys/libc.ts";
import { isMountPoint } from "../../kernel/sys/mounts.ts";
import { routerSocketPath } from "../ipc-router/index.ts";
import { registerServingThreads, type ServingRegistration } from "./client-opener.ts";
import { FuseServer } from "./server/index.ts";

export { FuseServer } from "./server/index.ts";

const CLIENT_OPENER = new URL("./client-opener.ts", import.meta.url).href;
/** How long a FUSE mount waits for the tenant service (started just before it) to accept its registration. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The fuse-legacy service: for every mount with `legacy = true`, a FUSE mount at the mount point, served in a Worker
 * that forwards each kernel request into the tenant service through the shared-memory client, so both paths share one
 * cache and one view. A mount a killed predecessor left (ENOTCONN) is detached lazily before mounting again. A mount
 * the tenant service does not serve is logged and skipped. Mounting
 * needs root (a tenant with its own `uid` cannot have legacy mounts). Page-cache use follows the tenant's `[fuse]`.
 */
export const fuseLegacyService: ServiceDefinition = {
  name: "fuse-legacy",
  async start(ctx) {
    const servers: FuseServer[] = [];
    const registrations: ServingRegistration[] = [];
    const stopAll = async () => {
      for (const server of servers.reverse()) await server.stop();
      for (const registration of registrations) registration.close();
    };
    /** Mount points this process created: removed again (when empty) once unmounted. */
    const created: string[] = [];
    const removeCreated = (path: string) => {
      try {
        rmdirSync(path);
      } catch {
        // Not empty, or still mounted: leave it.
      }
    };
    const socket = routerSocketPath(ctx.runtime.runDir);
    let stopping = false;
    try {
      for (const mount of ctx.tenant.mounts.filter((m) => m.legacy)) {
        if (!existsSync(mount.path)) {
          mkdirSync(mount.path, { recursive: true });
          created.push(mount.path);
        }
        if (isMountPoint(mount.path)) {
          umount2(Buffer.from(`${mount.path}\0`), MOUNT.MNT_DETACH);
          ctx.log.warn("detached a stale mount left by a previous fuse-legacy", { mount: mount.path });
        }
        const threads = ctx.tenant.fuse.threads;
        let server: FuseServer;
        let registration: ServingRegistration | undefined;
        try {
          registration = await registerServingThreads(socket, mount.path, threads, CONNECT_TIMEOUT_MS);
          server = await FuseServer.start({
            mountPoint: mount.path,
            opener: { module: CLIENT_OPENER, spec: registration.spec },
            threads,
            directIo: ctx.tenant.fuse.directIo,
            attrTimeoutMs: ctx.tenant.fuse.attrTimeoutMs,
            entryTimeoutMs: ctx.tenant.fuse.entryTimeoutMs,
            logger: ctx.log,
            name: `danaus.${ctx.tenant.name}`,
            startTimeoutMs: CONNECT_TIMEOUT_MS + 5000,
          });
        } catch (error) {
          // One mount the tenant service does not serve (or cannot be mounted) must not take the others down.
          registration?.close();
          ctx.log.error("legacy mount not served", { mount: mount.path, error: error instanceof Error ? error.message : String(error) });
          if (created.includes(mount.path)) removeCreated(mount.path);
          continue;
        }
        servers.push(server);
        registrations.push(registration);
        ctx.log.info("legacy mount served through FUSE", { mount: mount.path, directIo: ctx.tenant.fuse.directIo, threads, mountedBy: server.mountedBy });
        void server.stopped.then((reason) => {
          if (stopping) return;
          // A serving Worker died: the mount would hang. Exit, so the supervisor restarts fuse-legacy (which detaches
          // the dead mount and mounts again).
          ctx.log.error("a legacy mount stopped serving; exiting for a restart", { mount: mount.path, reason });
          process.exit(1);
        });
      }
    } catch (error) {
      await stopAll();
      throw error;
    }
    return {
      async stop() {
        stopping = true;
        await stopAll();
        for (const path of created) removeCreated(path);
      },
    };
  },
};
