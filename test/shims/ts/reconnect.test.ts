/**
 * The TypeScript client across a restart of its tenant service (real router processes, the successor at the same
 * socket): `probe` sees the service gone without a call; the next call answers ENOTCONN while none runs, the call after
 * the successor listens reconnects by itself; a descriptor of the old service answers ESTALE and closes quietly.
 */
import { afterAll, expect, test } from "bun:test";
import { constants, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Connection, DanausClient, FsError } from "../../../shims/ts/index.ts";
import { startTestRouter, type TestRouter } from "../../services/ipc-router/router-harness.ts";

const dir = mkdtempSync(join(tmpdir(), "danaus-reconnect-"));
const socket = join(dir, "router.sock");
const routers: TestRouter[] = [];

afterAll(async () => {
  for (const router of routers) await router.stop();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

/** Starts a router and points the tenant's socket path at it. */
async function serveAt(): Promise<TestRouter> {
  const router = await startTestRouter({ mounts: 1 });
  routers.push(router);
  try {
    unlinkSync(socket);
  } catch {
    // The first router: no link yet.
  }
  symlinkSync(router.socket, socket);
  return router;
}

const code = (call: () => unknown): string => {
  try {
    call();
    return "no error";
  } catch (error) {
    if (error instanceof FsError) return error.code;
    throw error;
  }
};

test("the client reconnects on its next call once a successor serves; old descriptors answer ESTALE", async () => {
  const first = await serveAt();
  const client = DanausClient.connect({ socket });
  const watcher = Connection.open(socket);
  try {
    const old = client.open("/m0/before", constants.O_CREAT | constants.O_RDWR, 0o644);
    expect(watcher.probe()).toBe(true);
    first.proc.kill("SIGKILL");
    await first.proc.exited;
    expect(watcher.probe()).toBe(false);
    expect(watcher.alive).toBe(false);
    expect(code(() => client.stat("/m0"))).toBe("ENOTCONN");
    // No service at all: still ENOTCONN, not a hang.
    expect(code(() => client.stat("/m0"))).toBe("ENOTCONN");

    const second = await serveAt();
    writeFileSync(join(second.backendRoot, "m0", "after"), "on the successor");
    expect(client.stat("/m0/after").st_size).toBe("on the successor".length);
    expect(code(() => client.pread(old, new Uint8Array(1), 0))).toBe("ESTALE");
    expect(code(() => client.close(old))).toBe("no error");
  } finally {
    watcher.close();
    client.disconnect();
  }
}, 60_000);
