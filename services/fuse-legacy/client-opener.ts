/**
 * @module client-opener — what the FUSE serving Workers serve: the tenant's mount reached through the shared-memory
 * client of the tenant service, so the kernel path and the user-level path share one service, one cache and one view.
 * The fuse-legacy process registers once per FUSE mount ({@link registerServingThreads}, main thread) and hands each
 * serving Worker a thread grant of that registration, so a file opened by one Worker is a descriptor of the same client
 * in all of them.
 */
import type { FileSystem } from "../ipc-router/protocol/index.ts";
import { ERRNO, FsError } from "../ipc-router/protocol/index.ts";
import { Connection, RingFileSystem, type ThreadGrant } from "../../shims/ts/index.ts";

/** What serving Worker `index` of a FUSE mount serves: which mount, through which grant. */
export interface ClientSpec {
  /** The mount point, as in the tenant's mount table. */
  readonly mountPath: string;
  /** One grant per serving Worker, from {@link registerServingThreads}. */
  readonly grants: readonly ThreadGrant[];
}

/** A registration of the fuse-legacy process for one FUSE mount; {@link close} ends it (the router releases all). */
export interface ServingRegistration {
  readonly spec: ClientSpec;
  close(): void;
}

/**
 * Registers with the tenant service at `socket` (retrying while it starts, up to `connectTimeoutMs`) and attaches
 * `threads` request buffers for the serving Workers. Throws FsError: ENOENT at once when the service does not serve
 * `mountPath` (e.g. a union mount whose image is missing), ENOTCONN when no service answered in time.
 */
export async function registerServingThreads(socket: string, mountPath: string, threads: number, connectTimeoutMs: number): Promise<ServingRegistration> {
  const deadline = Date.now() + connectTimeoutMs;
  let connection: Connection;
  for (;;) {
    try {
      connection = Connection.open(socket);
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await Bun.sleep(50);
    }
  }
  try {
    if (!connection.mounts.some((m) => m.path === mountPath)) {
      const error = new FsError(ERRNO.ENOENT, "mount", mountPath);
      error.message = `ENOENT: the tenant service does not serve ${mountPath} (served: ${connection.mounts.map((m) => m.path).join(", ") || "none"})`;
      throw error;
    }
    const grants = Array.from({ length: threads }, () => connection.attachThread());
    return { spec: { mountPath, grants }, close: () => connection.close() };
  } catch (error) {
    connection.close();
    throw error;
  }
}

/** The serving Worker's side: its grant's connection, and the mount's FileSystem over it. */
export function openFileSystem(spec: ClientSpec, index: number): FileSystem {
  const grant = spec.grants[index];
  if (grant === undefined) throw new FsError(ERRNO.EINVAL, "open", `no grant for serving worker ${index}`);
  const mount = grant.mounts.find((m) => m.path === spec.mountPath);
  if (mount === undefined) throw new FsError(ERRNO.ENOENT, "open", spec.mountPath);
  return new RingFileSystem(Connection.fromGrant(grant), mount.id);
}
