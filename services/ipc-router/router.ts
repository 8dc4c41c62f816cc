/**
 * @module router — the tenant's front (paper §3.5, §4.1): the data-path server in the role applications reach (its
 * region is the tenant's application region, its registration socket `router.sock`), plus what only the front has:
 * the stream transport (the same dispatcher behind a Unix socket, for clients that cannot map the region) and, when
 * every layer of the data path runs in this process, the local data path fuse-legacy takes when grouped with it.
 */
import type { ServiceContext } from "../../kernel/service-host/index.ts";
import { DataPathServer, limitsFor, type RouterLimits } from "../data-path-server.ts";
import { publishLocalDataPath } from "./local-data-path.ts";
import { FileTable } from "../../kernel/ipc/server/index.ts";
import { StreamServer, streamSocketPath } from "./stream-server.ts";

/** A running front. */
export class IpcRouter {
  private constructor(
    private readonly ctx: ServiceContext,
    /** The data-path server under the front. */
    readonly server: DataPathServer,
    private readonly stream: StreamServer,
  ) {}

  /** Starts the front's data-path server, its stream socket and (when the whole stack runs here) the local data path. */
  static async start(ctx: ServiceContext, limits: RouterLimits = limitsFor(ctx.tenant)): Promise<IpcRouter> {
    const server = await DataPathServer.start(ctx, "ipc-router", limits);
    const stream = new StreamServer({
      mounts: server.mainMounts,
      files: new FileTable(server.ring.files),
      mountTable: server.mountTable,
      bufferSize: limits.bufferSize,
      log: ctx.log,
      mutated: () => server.ring.region.bumpMutations(),
    });
    stream.listen(streamSocketPath(ctx.runtime.runDir));
    // fuse-legacy in this process serves straight from the storage, when every layer runs here.
    const storage = server.storage;
    if (storage !== null && server.served.every((m) => m.attach.via === "storage")) {
      const mounts = server.served.flatMap((m) => (m.attach.via === "storage" ? [{ path: m.path, branches: m.attach.branches }] : []));
      publishLocalDataPath({ storage: storage.shared, mounts, regionAddress: server.ring.region.address });
    }
    return new IpcRouter(ctx, server, stream);
  }

  /** What the front holds now (see RingServer.stats). */
  stats(): ReturnType<DataPathServer["ring"]["stats"]> {
    return this.server.ring.stats();
  }

  /** Service threads per queue now. */
  threadCounts(): number[] {
    return this.server.ring.threadCounts();
  }

  /** Stops serving: the local data path and the stream socket first, then the server (see {@link DataPathServer.stop}). */
  async stop(): Promise<void> {
    publishLocalDataPath(undefined);
    this.stream.close(streamSocketPath(this.ctx.runtime.runDir));
    await this.server.stop();
  }
}
