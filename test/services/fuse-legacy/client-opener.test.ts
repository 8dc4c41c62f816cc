/**
 * fuse-legacy's registration with the tenant service across a restart (real router processes): killed, the serving
 * side answers ENOTCONN; once a successor listens at the same socket, the registration renews itself, path operations
 * reach the new service, a handle of the old one answers ESTALE (and closes quietly), new opens work. Too few request
 * buffers answer EAGAIN with a message that says so.
 */
import { afterAll, expect, test } from "bun:test";
import { constants, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openFileSystem, MountRegistration } from "../../../services/fuse-legacy/client-opener.ts";
import { FsError } from "../../../kernel/ipc/protocol/index.ts";
import { waitFor } from "../../integration/harness.ts";
import { startTestRouter, type TestRouter } from "../ipc-router/router-harness.ts";

const dir = mkdtempSync(join(tmpdir(), "danaus-renewal-"));
/** The socket path the registration knows: a symlink to whichever router plays the tenant service now. */
const socket = join(dir, "router.sock");
const routers: TestRouter[] = [];

afterAll(async () => {
  for (const router of routers) await router.stop();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

const code = (call: () => unknown): string => {
  try {
    call();
    return "no error";
  } catch (error) {
    if (error instanceof FsError) return error.code;
    throw error;
  }
};

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

test("after the service is killed and restarted, the registration renews itself: new service, old handles ESTALE", async () => {
  const first = await serveAt();
  const events: string[] = [];
  const registration = await MountRegistration.open(socket, "/m0", 2, 5000, {
    served: () => events.push("served"),
    unserved: (problem) => events.push(problem.code),
  });
  try {
    const fs = openFileSystem(registration.spec, 1);
    const old = fs.open("/kept-open", constants.O_CREAT | constants.O_RDWR, 0o644);
    expect(fs.pwrite(old, new TextEncoder().encode("old service"), 0)).toBe(11);

    first.proc.kill("SIGKILL");
    await first.proc.exited;
    expect(code(() => fs.stat("/"))).toBe("ENOTCONN");
    await waitFor("the registration to see the service gone", () => events.includes("ENOTCONN"));

    const second = await serveAt();
    writeFileSync(join(second.backendRoot, "m0", "on-the-new-service"), "new");
    await waitFor("the registration renewed", () => events.includes("served"));
    expect(fs.stat("/on-the-new-service").st_size).toBe(3);
    expect(code(() => fs.pread(old, new Uint8Array(4), 0))).toBe("ESTALE");
    expect(code(() => fs.close(old))).toBe("no error");
    const fresh = fs.open("/on-the-new-service", constants.O_RDONLY, 0);
    const into = new Uint8Array(3);
    expect(fs.pread(fresh, into, 0)).toBe(3);
    expect(new TextDecoder().decode(into)).toBe("new");
    fs.close(fresh);
    // Worker 0 follows the same board.
    expect(openFileSystem(registration.spec, 0).stat("/on-the-new-service").st_size).toBe(3);
  } finally {
    registration.close();
  }
}, 60_000);

test("too few request buffers: EAGAIN, saying that every buffer is in use", async () => {
  const router = await startTestRouter({ mounts: 1, limits: { bufferCount: 3 } });
  routers.push(router);
  let thrown: unknown;
  try {
    await MountRegistration.open(router.socket, "/m0", 4, 5000, { served: () => undefined, unserved: () => undefined });
  } catch (error) {
    thrown = error;
  }
  expect((thrown as FsError).code).toBe("EAGAIN");
  expect((thrown as FsError).message).toContain("every request buffer of the tenant is in use");
}, 60_000);
