/** @module write-back-worker — the entry of the write-back Worker started by `startWriteBackThread`. */
import type { FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import { SharedCache } from "./shared-cache.ts";
import { loadOpener, type WriteBackReply, type WriteBackRequest } from "./write-back-thread.ts";

declare const self: Worker;

const specs = new Map<number, unknown>();
const opened: FileSystem[] = [];
let cache: SharedCache | undefined;
let timer: ReturnType<typeof setInterval> | undefined;

function reply(message: WriteBackReply): void {
  self.postMessage(message);
}

async function start(request: Extract<WriteBackRequest, { kind: "start" }>): Promise<void> {
  const open = await loadOpener(request.opener);
  for (const [id, spec] of Object.entries(request.opener.specs)) specs.set(Number(id), spec);
  const attached = SharedCache.attach(request.data);
  attached.setBackendResolver((backendId) => {
    if (!specs.has(backendId)) return undefined;
    const fs = open(specs.get(backendId), backendId);
    opened.push(fs);
    return fs;
  });
  cache = attached;
  timer = setInterval(() => {
    try {
      attached.writeBackDue();
    } catch (error) {
      reply({ kind: "error", message: String(error) });
    }
  }, attached.config.writebackMs);
  reply({ kind: "ready" });
}

function stop(flush: boolean): void {
  if (timer !== undefined) clearInterval(timer);
  timer = undefined;
  try {
    if (flush) cache?.flushAll();
  } catch (error) {
    reply({ kind: "error", message: String(error) });
  }
  for (const fs of opened) (fs as Partial<Disposable>)[Symbol.dispose]?.();
  reply({ kind: "stopped" });
}

self.onmessage = (event: MessageEvent<WriteBackRequest>) => {
  const request = event.data;
  if (request.kind === "start") start(request).catch((error: unknown) => reply({ kind: "error", message: String(error) }));
  else if (request.kind === "add") specs.set(request.backendId, request.spec);
  else stop(request.flush);
};
