/**
 * @module serving-worker — the entry of one of a FUSE mount's serving Workers: it builds its FileSystem from the
 * opener, then loops on a blocking readSync of the /dev/fuse fd (never on the main thread), answers each request
 * through a FuseSession over the mount's shared node table and writes the reply. Every Worker of a mount reads the same
 * fd; the kernel hands each request to one of them. The loop ends when the read fails with ENODEV (the mount is gone).
 */
import { readSync, writeSync } from "node:fs";
import { FaultState } from "../../../kernel/service-host/index.ts";
import { GcPacer, ServerCounters, ServiceTimer } from "../../../kernel/ipc/server/index.ts";
import type { FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import { NodeTable } from "./node-table.ts";
import { REQUEST_BUFFER_SIZE } from "./options.ts";
import { FuseSession } from "./session.ts";
import type { FromServingWorker, ToServingWorker } from "./worker-messages.ts";

declare const self: Worker;

const post = (message: FromServingWorker): void => self.postMessage(message);
const codeOf = (error: unknown): string | undefined => (error as { code?: string }).code;

let session: FuseSession | undefined;
let deviceFd = -1;
let faults: FaultState | undefined;
let timer: ServiceTimer | undefined;

function serve(): string {
  const active = session;
  if (active === undefined) return "not started";
  const request = new Uint8Array(REQUEST_BUFFER_SIZE);
  // The loop blocks in readSync and never returns to the event loop: collect each request's garbage here (gc-pacer.ts).
  const gc = new GcPacer();
  for (;;) {
    let length: number;
    try {
      length = readSync(deviceFd, request, 0, request.length, null);
    } catch (error) {
      const code = codeOf(error);
      // ENOENT: the request being read was interrupted; EINTR/EAGAIN: retry.
      if (code === "EINTR" || code === "EAGAIN" || code === "ENOENT") continue;
      if (code === "ENODEV") return "unmounted";
      return `read failed: ${String(error)}`;
    }
    if (length === 0) return "end of device";
    const startedAt = performance.now();
    faults?.delay();
    const replyLength = active.handle(request, length);
    if (replyLength > 0) {
      try {
        writeSync(deviceFd, active.reply, 0, replyLength);
      } catch (error) {
        // ENOENT: the request was aborted or interrupted meanwhile; the kernel no longer waits for it.
        if (codeOf(error) !== "ENOENT") post({ kind: "log", level: "warn", msg: "fuse reply write failed", fields: { error: String(error) } });
      }
    }
    // The next read may block for good: what this request took is published now, not in a batch.
    if (timer !== undefined) {
      timer.answered(startedAt);
      timer.flush();
    }
    if (active.destroyed) return "destroyed";
    gc.served(active.work);
  }
}

self.onmessage = async (event: MessageEvent<ToServingWorker>) => {
  const message = event.data;
  if (message.kind === "start") {
    try {
      const module = (await import(message.opener.module)) as Record<string, unknown>;
      const exportName = message.opener.exportName ?? "openFileSystem";
      const open = module[exportName];
      if (typeof open !== "function") throw new Error(`${message.opener.module} exports no function ${exportName}`);
      const fs = (await open(message.opener.spec, message.index)) as FileSystem;
      const logger = {
        warn: (msg: string, fields?: object) => post({ kind: "log", level: "warn", msg, ...(fields ? { fields } : {}) }),
        error: (msg: string, fields?: object) => post({ kind: "log", level: "error", msg, ...(fields ? { fields } : {}) }),
      };
      session = new FuseSession(fs, message.options, logger, new NodeTable(message.nodes));
      if (message.faults !== undefined) faults = FaultState.attach(message.faults);
      if (message.counters !== undefined) timer = new ServiceTimer(new ServerCounters(message.counters));
      post({ kind: "ready" });
    } catch (error) {
      post({ kind: "error", message: error instanceof Error ? error.message : String(error) });
    }
    return;
  }
  deviceFd = message.fd;
  if (session !== undefined) {
    session.minor = message.minor;
    session.initFlags = message.flags;
  }
  post({ kind: "stopped", reason: serve() });
};
