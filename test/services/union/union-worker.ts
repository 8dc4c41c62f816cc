/** @module test/services/union/union-worker — a Worker building its own union over the same branch roots and shared state, for the thread tests. */
import { LocalBackend } from "../../../services/client-cache/backend/index.ts";
import { UnionFileSystem, type UnionShared } from "../../../services/union/index.ts";

declare const self: Worker;

/** What the tests ask the worker to do. */
export type UnionWorkerRequest = {
  readonly upper: string;
  readonly lowers: readonly string[];
  readonly shared: UnionShared;
} & (
  /** Read `file` (a handle another thread opened) whole, list `dir` (a directory handle), close both, open the root. */
  | { readonly kind: "handles"; readonly file: number; readonly dir: number }
  /**
   * Once `start[0]` is 1, open each of `paths` for writing (copying it up unless another thread did) and write
   * `byte` at `offset`.
   */
  | { readonly kind: "race"; readonly paths: readonly string[]; readonly byte: number; readonly offset: number; readonly start: SharedArrayBuffer }
);

/** The worker's answer. */
export type UnionWorkerReply = { ok: true; content?: string; names?: string[]; opened?: number } | { ok: false; error: string };

const O_RDWR = 2;
const O_DIRECTORY = 0o200000;

function serve(request: UnionWorkerRequest): UnionWorkerReply {
  const upper = new LocalBackend(request.upper);
  const lowers = request.lowers.map((root) => new LocalBackend(root));
  try {
    const fs = new UnionFileSystem({ upper, lowers }, request.shared);
    if (request.kind === "race") {
      const start = new Int32Array(request.start);
      while (Atomics.load(start, 0) === 0) Atomics.wait(start, 0, 0, 1);
      for (const path of request.paths) {
        const fd = fs.open(path, O_RDWR, 0);
        fs.pwrite(fd, Uint8Array.of(request.byte), request.offset);
        fs.close(fd);
      }
      return { ok: true };
    }
    const buffer = new Uint8Array(256);
    const count = fs.pread(request.file, buffer, 0);
    const names: string[] = [];
    for (let cookie = 0; ; ) {
      const batch = fs.readdir(request.dir, cookie);
      if (batch.length === 0) break;
      names.push(...batch.map((entry) => entry.name));
      cookie = batch[batch.length - 1]!.next;
    }
    fs.close(request.file);
    fs.close(request.dir);
    // A directory handle this thread opens, for the main thread to use and close.
    const opened = fs.open("", O_DIRECTORY, 0);
    return { ok: true, content: new TextDecoder().decode(buffer.subarray(0, count)), names: names.sort(), opened };
  } catch (error) {
    return { ok: false, error: String(error) };
  } finally {
    upper.dispose();
    for (const lower of lowers) lower.dispose();
  }
}

self.onmessage = (event: MessageEvent<UnionWorkerRequest>) => {
  self.postMessage(serve(event.data));
};
