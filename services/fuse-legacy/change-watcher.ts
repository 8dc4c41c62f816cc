/**
 * @module change-watcher — fuse-legacy's ear on the tenant service: a "watch" connection to its registration socket
 * that hears which files clients of other processes wrote and which names of the mount they changed (see
 * change-log.ts in the ipc-router), so the kernel's cached pages, attributes and entries of them can be dropped. Kept
 * open by the caller's periodic {@link ChangeWatcher.keepOpen} (a restarted service is watched again once it listens).
 */
import type { Socket } from "bun";
import * as v from "valibot";
import { ChangedLineSchema, nameChangedFromWire, RegistrationReplySchema } from "../../kernel/ipc/server/index.ts";
import type { ChangedName } from "./server/index.ts";

/** A file a client wrote. */
export interface ChangedFile {
  readonly st_dev: number;
  readonly st_ino: number;
}

/** What the watcher heard in one line: files written and names changed. */
export type OnChanged = (files: readonly ChangedFile[], names: readonly ChangedName[]) => void;

/** One watch connection to the tenant service at a registration socket, reopened on demand. */
export class ChangeWatcher {
  private socket: Socket<undefined> | null = null;
  private opening = false;
  private closed = false;

  /**
   * `onChanged` hears each batch of written files, and of changed names of the mount at `mount` (a mount point of the
   * service's mount table). Nothing is opened before {@link keepOpen}.
   */
  constructor(private readonly path: string, private readonly mount: string, private readonly onChanged: OnChanged) {}

  /** Opens the connection unless it is open or opening (a service that is not there yet: tried at the next call). */
  keepOpen(): void {
    if (this.socket !== null || this.opening || this.closed) return;
    this.opening = true;
    let closedEarly = false;
    const gone = (socket: Socket<undefined>) => {
      closedEarly = true;
      if (this.socket === socket) this.socket = null;
    };
    this.connect(gone).then(
      (socket) => {
        this.opening = false;
        if (this.closed) socket.end();
        else if (!closedEarly) this.socket = socket;
      },
      () => (this.opening = false),
    );
  }

  /** Closes the connection for good. */
  close(): void {
    this.closed = true;
    this.socket?.end();
    this.socket = null;
  }

  private connect(onClose: (socket: Socket<undefined>) => void): Promise<Socket<undefined>> {
    let pending = "";
    let acknowledged = false;
    return Bun.connect({
      unix: this.path,
      socket: {
        open: (s) => void s.write(JSON.stringify({ op: "watch", pid: process.pid, mount: this.mount }) + "\n"),
        close: (s) => onClose(s),
        data: (s, chunk) => {
          pending += chunk.toString();
          let newline: number;
          while ((newline = pending.indexOf("\n")) >= 0) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            let raw: unknown;
            try {
              raw = JSON.parse(line);
            } catch {
              s.end();
              return;
            }
            if (!acknowledged) {
              // The reply to "watch": a service that refuses it (an older one) is left alone.
              const reply = v.safeParse(RegistrationReplySchema, raw);
              if (!reply.success || !reply.output.ok) s.end();
              acknowledged = true;
              continue;
            }
            const parsed = v.safeParse(ChangedLineSchema, raw);
            if (!parsed.success) continue;
            const { changed, names = [] } = parsed.output;
            if (changed.length > 0 || names.length > 0) this.onChanged(changed.map(([st_dev, st_ino]) => ({ st_dev, st_ino })), names.map(nameChangedFromWire));
          }
        },
      },
    });
  }
}
