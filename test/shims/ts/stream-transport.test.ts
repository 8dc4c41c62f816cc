/** The conformance suite over the router's stream transport: the same dispatcher behind a Unix socket instead of the ring. */
import { afterAll, beforeAll } from "bun:test";
import { streamSocketPath } from "../../../services/ipc-router/index.ts";
import { RingFileSystem, StreamTransport } from "../../../shims/ts/index.ts";
import { runConformance } from "../../conformance/index.ts";
import { startTestRouter, type TestRouter } from "../../services/ipc-router/router-harness.ts";

const MOUNTS = 128;
let router: TestRouter;
let transport: StreamTransport;
let next = 0;

beforeAll(async () => {
  router = await startTestRouter({ mounts: MOUNTS });
  transport = StreamTransport.open(streamSocketPath(router.runtime.runDir));
}, 30_000);
afterAll(async () => {
  transport?.close();
  await router?.stop();
}, 30_000);

runConformance("stream transport", {
  async newFs() {
    if (next >= MOUNTS) throw new Error(`the test router has only ${MOUNTS} fresh mounts; raise MOUNTS`);
    const path = `/m${next++}`;
    const id = transport.mounts.find((m) => m.path === path)!.id;
    return { fs: new RingFileSystem(transport, id), cleanup() {} };
  },
  capabilities: { renameFlags: true, chown: true, hardLinks: true, largeFiles: true, symlinks: true, fifoIo: true },
});
