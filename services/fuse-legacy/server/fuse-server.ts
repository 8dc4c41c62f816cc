/**
 * @module fuse-server — serves one FileSystem at a mount point over /dev/fuse, in pure TypeScript. The main thread
 * opens the device, mounts and unmounts; `threads` Workers each build their own FileSystem from an opener module and
 * run the blocking read → handle → write loop on the same device fd, so requests are served in parallel (the kernel
 * hands each request to one reader). They share the mount's node table (a SharedArrayBuffer).
 */
import { statSync, writeSync } from "node:fs";
import { nameToBytes } from "../../../kernel/ipc/protocol/index.ts";
import { encodeNotifyInvalEntry, encodeNotifyInvalInode } from "../protocol/index.ts";
import { answerInit } from "./handshake.ts";
import { FusermountError } from "./fusermount.ts";
import { closeFuseDevice, FuseMountError, mountFuseDevice, unmountFuseMount, type MountedBy, type MountWith } from "./mount.ts";
import type { FuseLogger, FuseSessionOptions } from "./options.ts";
import { DEFAULT_MAX_NODES, NodeTable, pathNames } from "./node-table.ts";
import type { FileSystemOpener, FromServingWorker, ToServingWorker } from "./worker-messages.ts";

/** Longest name a kernel entry has. */
const NAME_MAX = 255;

/** Serving Workers per mount by default. */
export const DEFAULT_SERVING_THREADS = 2;

/** How to start a {@link FuseServer}. */
export interface FuseServerOptions extends FuseSessionOptions {
  /** An existing directory to mount on. */
  readonly mountPoint: string;
  /** How each serving Worker builds the FileSystem it serves. */
  readonly opener: FileSystemOpener;
  /** Serving Workers reading the device (requests served in parallel); default {@link DEFAULT_SERVING_THREADS}. */
  readonly threads?: number;
  /** Most nodes the kernel may hold at once (a power of two; LOOKUPs past it answer ENFILE); default 131072. */
  readonly maxNodes?: number;
  /** `fuse.<name>` type and source; default "danaus". */
  readonly name?: string;
  /** `allow_other`; default true. */
  readonly allowOther?: boolean;
  /** `default_permissions` (the kernel checks mode bits); default true. */
  readonly defaultPermissions?: boolean;
  /** Hears handler bugs (answered EIO) and serving-loop failures. */
  readonly logger?: FuseLogger;
  /** A FaultState's buffer (the service's injected faults): each request first waits out the `slow` latency. */
  readonly faults?: SharedArrayBuffer;
  /**
   * A ServerCounters buffer (kernel/ipc/server/server-counters.ts) the serving Workers add to: requests answered, and the
   * time from reading each off the device to writing its reply. Several servers may share one.
   */
  readonly counters?: SharedArrayBuffer;
  /** How long to wait for the Worker to load and for the kernel's INIT, in ms. Default 10 000. */
  readonly startTimeoutMs?: number;
  /** mount(2), or fusermount3, or "auto" (default): mount(2), and fusermount3 when it is not permitted (not root). */
  readonly mountWith?: MountWith;
}

/** A name changed without the kernel knowing (through the user-level path), as fuse-legacy's change watcher hears it. */
export interface ChangedName {
  /** "added" (created, linked, renamed onto), "removed" (unlinked, removed, replaced), "moved" (renamed from path to `to`). */
  readonly kind: "added" | "removed" | "moved";
  /** The path inside the mount, a byte string (one char per byte). */
  readonly path: string;
  /** The new path of a "moved" name. */
  readonly to?: string;
  /** The file the name named ("removed", "moved"). */
  readonly st_dev: number;
  readonly st_ino: number;
}

/** A FUSE server that did not start: the Worker failed, the mount was refused or INIT never came. */
export class FuseServerError extends Error {
  override readonly name = "FuseServerError";
  constructor(readonly mountPoint: string, readonly problem: string) {
    super(`FUSE server for ${mountPoint}: ${problem}`);
  }
}

/** A mounted, serving FUSE filesystem. Create with {@link FuseServer.start}; always {@link FuseServer.stop} it. */
export class FuseServer {
  /** Resolves with the serving loop's end reason ("unmounted" after a clean stop). */
  readonly stopped: Promise<string>;
  private mounted = true;

  private constructor(
    /** The mount point being served. */
    readonly mountPoint: string,
    /** The negotiated protocol minor and INIT flags. */
    readonly protocol: { readonly minor: number; readonly flags: number },
    private readonly fd: number,
    private readonly workers: readonly Worker[],
    stopped: Promise<string>,
    /** How the mount was made: mount(2), or the setuid helper fusermount3 (not root). */
    readonly mountedBy: MountedBy,
    /** The node table the serving Workers share. */
    private readonly nodes: NodeTable,
  ) {
    this.stopped = stopped;
  }

  /**
   * Files changed without the kernel knowing (through the user-level path): for each one the kernel holds a node of,
   * FUSE_NOTIFY_INVAL_INODE drops its cached attributes and pages, those of shared mappings included, so the next
   * access reads them again. Returns how many nodes were invalidated. A node the kernel has just forgotten is skipped.
   */
  invalidate(files: Iterable<{ readonly st_dev: number; readonly st_ino: number }>): number {
    if (!this.mounted) return 0;
    let invalidated = 0;
    for (const file of files) {
      const nodeid = this.nodes.nodeOfInode(file.st_dev, file.st_ino);
      if (nodeid !== undefined && this.notify(encodeNotifyInvalInode(nodeid))) invalidated++;
    }
    return invalidated;
  }

  /**
   * Names changed without the kernel knowing (through the user-level path): the node table follows (a removed name
   * goes, a moved one moves, each only while the table has it for the file the change names), then for each name whose
   * directory the kernel holds, FUSE_NOTIFY_INVAL_ENTRY drops the kernel's entry of it (a cached absence included), and
   * FUSE_NOTIFY_INVAL_INODE the directory's cached attributes and those of the file that lost the name (its link count).
   * Called outside request handling (the kernel may hold the directory's lock while it waits for a reply). Returns how
   * many notifications the kernel took; an entry or node it does not hold is skipped.
   */
  invalidateNames(changes: Iterable<ChangedName>): number {
    if (!this.mounted) return 0;
    let sent = 0;
    // Each directory and file once per batch, after its entries (a burst of creates in one directory is one INVAL_INODE).
    const nodes = new Set<number>();
    for (const change of changes) {
      const from = pathNames(change.path);
      const to = change.to === undefined ? undefined : pathNames(change.to);
      // Before the table lets go of the name: the node of the file that lost it (a node with no name left is unindexed).
      const file = change.kind === "added" ? undefined : this.nodes.nodeOfInode(change.st_dev, change.st_ino);
      if (file !== undefined) nodes.add(file);
      if (change.kind === "removed") this.nodes.vanished(from, change);
      else if (change.kind === "moved" && to !== undefined) this.nodes.moved(from, to, change);
      for (const names of to === undefined ? [from] : [from, to]) {
        if (names.length === 0) continue;
        const directory = this.nodes.directory(names.slice(0, -1));
        const name = nameToBytes(names.at(-1)!);
        // Past NAME_MAX no entry can be cached (and the kernel would refuse the notification).
        if (directory === undefined || name.length > NAME_MAX) continue;
        if (this.notify(encodeNotifyInvalEntry(directory, name))) sent++;
        nodes.add(directory);
      }
    }
    for (const node of nodes) if (this.notify(encodeNotifyInvalInode(node))) sent++;
    return sent;
  }

  /** Writes notification `message`; false when the kernel holds no such node or entry (ENOENT, or ENOTDIR), which is normal. */
  private notify(message: Uint8Array): boolean {
    try {
      writeSync(this.fd, message);
      return true;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "ENOENT" || code === "ENOTDIR") return false;
      throw error;
    }
  }

  /**
   * Opens /dev/fuse, starts the serving Workers, mounts `options.mountPoint` and waits until the kernel's INIT is
   * answered (on this thread: see handshake.ts). Without root, mounts through fusermount3 (see `mountWith`).
   * Throws {@link FuseMountError} (ENOENT without /dev/fuse), FusermountError (the helper refused) or {@link FuseServerError};
   * nothing stays mounted or open on failure.
   */
  static async start(options: FuseServerOptions): Promise<FuseServer> {
    const { mountPoint, logger } = options;
    if (!statSync(mountPoint, { throwIfNoEntry: false })?.isDirectory()) {
      throw new FuseServerError(mountPoint, "the mount point is not an existing directory");
    }
    const timeoutMs = options.startTimeoutMs ?? 10_000;
    const threads = options.threads ?? DEFAULT_SERVING_THREADS;
    if (!Number.isInteger(threads) || threads < 1) throw new FuseServerError(mountPoint, `threads must be a positive integer, not ${threads}`);
    const nodes = NodeTable.allocate(options.maxNodes ?? DEFAULT_MAX_NODES);
    let fd = -1;
    let mountedBy: MountedBy = "mount(2)";
    const workers: Worker[] = [];
    const ends: Promise<string>[] = [];
    const starts: Promise<void>[] = [];
    const settleStarts: ((problem?: string) => void)[] = [];
    for (let index = 0; index < threads; index++) {
      const worker = new Worker(new URL("./serving-worker.ts", import.meta.url).href);
      workers.push(worker);
      let started: (problem?: string) => void = () => undefined;
      starts.push(
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new FuseServerError(mountPoint, `serving worker ${index} not ready within ${timeoutMs} ms`)), timeoutMs);
          started = (problem) => {
            clearTimeout(timer);
            if (problem === undefined) resolve();
            else reject(new FuseServerError(mountPoint, `serving worker ${index} could not start: ${problem}`));
          };
        }),
      );
      starts.at(-1)?.catch(() => undefined); // observed through Promise.all below
      settleStarts.push((problem) => started(problem));
      ends.push(
        new Promise<string>((resolve) => {
          worker.onmessage = (event: MessageEvent<FromServingWorker>) => {
            const message = event.data;
            if (message.kind === "log") logger?.[message.level](message.msg, { ...message.fields, worker: index });
            else if (message.kind === "ready") started();
            else if (message.kind === "error") started(message.message);
            else resolve(message.reason);
          };
          worker.onerror = (event) => {
            logger?.error("fuse serving worker crashed", { mountPoint, worker: index, error: event.message });
            started(event.message);
            resolve(`worker ${index} crashed: ${event.message}`);
          };
        }),
      );
    }
    // The mount is served while every Worker serves: the first to end (crash, or ENODEV after an unmount) ends it.
    const stopped = Promise.race(ends);
    const send = (message: ToServingWorker) => {
      for (const worker of workers) worker.postMessage(message);
    };
    let isMounted = false;
    try {
      workers.forEach((worker, index) =>
        worker.postMessage({
          kind: "start",
          index,
          nodes,
          ...(options.faults === undefined ? {} : { faults: options.faults }),
          ...(options.counters === undefined ? {} : { counters: options.counters }),
          opener: options.opener,
          options: { directIo: options.directIo, attrTimeoutMs: options.attrTimeoutMs, entryTimeoutMs: options.entryTimeoutMs, negativeTimeoutMs: options.negativeTimeoutMs },
        } satisfies ToServingWorker),
      );
      await Promise.all(starts);
      const mounted = await mountFuseDevice({
        mountPoint,
        ...(options.name ? { name: options.name } : {}),
        ...(options.allowOther === undefined ? {} : { allowOther: options.allowOther }),
        ...(options.defaultPermissions === undefined ? {} : { defaultPermissions: options.defaultPermissions }),
        ...(options.mountWith === undefined ? {} : { mountWith: options.mountWith }),
        timeoutMs,
      });
      ({ fd, mountedBy } = mounted);
      isMounted = true;
      if (mountedBy === "fusermount3") logger?.warn("FUSE mounted through fusermount3", { mountPoint, mountedBy, mount2: mounted.fallbackReason ?? "not tried", dropped: mounted.dropped });
      const init = answerInit(fd);
      if (init.error !== undefined) throw new FuseServerError(mountPoint, `INIT refused: errno ${init.error}`);
      send({ kind: "serve", fd, minor: init.minor, flags: init.flags });
      return new FuseServer(mountPoint, { minor: init.minor, flags: init.flags }, fd, workers, stopped, mountedBy, new NodeTable(nodes));
    } catch (error) {
      for (const settle of settleStarts) settle("the server did not start");
      for (const worker of workers) worker.terminate();
      // INIT is answered (or the mount never happened), so unmounting cannot hang; closing the device aborts the rest.
      if (isMounted) unmountFuseMount(mountPoint, mountedBy);
      if (fd >= 0) closeFuseDevice(fd);
      if (error instanceof FuseMountError || error instanceof FusermountError || error instanceof FuseServerError) throw error;
      throw new FuseServerError(mountPoint, error instanceof Error ? error.message : String(error));
    }
  }

  /**
   * Unmounts (lazily when busy), waits up to `timeoutMs` for the serving loop to see ENODEV, then ends the Worker and
   * closes the device. Idempotent. Returns the loop's end reason, or "timeout".
   */
  async stop(timeoutMs = 5000): Promise<string> {
    if (this.mounted) {
      this.mounted = false;
      const status = unmountFuseMount(this.mountPoint, this.mountedBy);
      if (status !== 0 && status !== 22) {
        closeFuseDevice(this.fd);
        for (const worker of this.workers) worker.terminate();
        throw new FuseMountError(this.mountPoint, status, "umount");
      }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reason = await Promise.race([
      this.stopped,
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs))),
    ]);
    clearTimeout(timer);
    closeFuseDevice(this.fd);
    for (const worker of this.workers) worker.terminate();
    return reason;
  }
}
