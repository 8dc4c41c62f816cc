/** @module test/services/client-cache/backend/local-worker — a Bun Worker running its own LocalBackend over a shared root, for the thread and race tests. */
import { LocalBackend } from "../../../../services/client-cache/backend/index.ts";
import { FsError } from "../../../../kernel/ipc/protocol/index.ts";

declare const self: Worker;

/** What the tests ask the worker to do. */
export type LocalWorkerRequest =
  /** Create `path` holding `content`, and open it again read-only: replies with that handle. */
  | { kind: "write"; root: string; path: string; content: string }
  /**
   * Swap each pair of names with RENAME_EXCHANGE until `control[0]` becomes 1, counting swaps in `control[1]`;
   * replies with the count.
   */
  | { kind: "swap"; root: string; pairs: [string, string][]; control: SharedArrayBuffer };

/** The worker's answer. */
export type LocalWorkerReply = { ok: true; handle?: number; swaps?: number } | { ok: false; error: string };

const RENAME_EXCHANGE = 2;
const O_CREAT = 0o100;
const O_WRONLY = 0o1;
const O_TRUNC = 0o1000;

function serve(request: LocalWorkerRequest): LocalWorkerReply {
  const fs = new LocalBackend(request.root);
  try {
    if (request.kind === "write") {
      const fd = fs.open(request.path, O_CREAT | O_WRONLY | O_TRUNC, 0o644);
      fs.write(fd, new TextEncoder().encode(request.content));
      fs.close(fd);
      return { ok: true, handle: fs.open(request.path, 0, 0) };
    }
    const control = new Int32Array(request.control);
    while (Atomics.load(control, 0) === 0) {
      for (const [a, b] of request.pairs) {
        try {
          fs.rename(a, b, RENAME_EXCHANGE);
          Atomics.add(control, 1, 1);
        } catch (error) {
          if (!(error instanceof FsError)) throw error;
        }
      }
    }
    return { ok: true, swaps: Atomics.load(control, 1) };
  } catch (error) {
    return { ok: false, error: String(error) };
  } finally {
    fs.dispose();
  }
}

self.onmessage = (event: MessageEvent<LocalWorkerRequest>) => {
  self.postMessage(serve(event.data));
};
