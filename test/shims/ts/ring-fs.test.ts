/** The conformance suite through the shared-memory ring: client in this thread, the router's service threads in Workers. */
import { afterAll, beforeAll } from "bun:test";
import { DanausClient } from "../../../shims/ts/index.ts";
import { runConformance } from "../../conformance/index.ts";
import { startTestRouter, type TestRouter } from "../../services/ipc-router/router-harness.ts";

const MOUNTS = 128;
let router: TestRouter;
let client: DanausClient;
let next = 0;

beforeAll(async () => {
  router = await startTestRouter({ mounts: MOUNTS });
  client = DanausClient.connect({ socket: router.socket });
}, 30_000);
afterAll(async () => {
  client?.disconnect();
  await router?.stop();
}, 30_000);

runConformance("shared-memory client", {
  async newFs() {
    if (next >= MOUNTS) throw new Error(`the test router has only ${MOUNTS} fresh mounts; raise MOUNTS`);
    const fs = client.fileSystem(`/m${next++}`);
    return { fs, cleanup() {} };
  },
  capabilities: { renameFlags: true, chown: true, hardLinks: true, largeFiles: true, symlinks: true, fifoIo: true },
});
