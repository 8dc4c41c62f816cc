/**
 * @module client-opener — what the FUSE serving Worker serves: the tenant's mount reached through the shared-memory
 * client of the tenant service, so the kernel path and the user-level path share one service, one cache and one view.
 */
import type { FileSystem } from "../ipc-router/protocol/index.ts";
import { DanausClient } from "../../shims/ts/index.ts";

/** Which tenant service and which of its mounts a FUSE mount serves. */
export interface ClientSpec {
  /** The tenant's registration socket (`<runDir>/router.sock`). */
  readonly socket: string;
  /** The mount point, as in the tenant's mount table. */
  readonly mountPath: string;
  /** How long to wait for the tenant service to accept the registration (it may still be starting). */
  readonly connectTimeoutMs: number;
}

/**
 * Connects to the tenant service (retrying while it starts) and returns the mount's FileSystem. Throws at once when
 * the service does not serve that mount (ENOENT, e.g. a union mount whose image is missing).
 */
export async function openFileSystem(spec: ClientSpec): Promise<FileSystem> {
  const deadline = Date.now() + spec.connectTimeoutMs;
  let client: DanausClient;
  for (;;) {
    try {
      client = DanausClient.connect({ socket: spec.socket });
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await Bun.sleep(50);
    }
  }
  try {
    return client.fileSystem(spec.mountPath);
  } catch (error) {
    client.disconnect();
    throw error;
  }
}
