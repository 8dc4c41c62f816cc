/**
 * The kernel path under a real supervisor: a tenant mount with `legacy = true` is a FUSE mount served by fuse-legacy,
 * which forwards into the same tenant service as the shared-memory client — a write on either path is read at once
 * on the other — and after fuse-legacy is killed the mount comes back and the next open works.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMountPoint } from "../../../kernel/sys/mounts.ts";
import { DanausClient } from "../../../shims/ts/client.ts";
import { Harness, waitFor } from "../harness.ts";

setDefaultTimeout(60_000);
const root = process.getuid?.() === 0 && existsSync("/dev/fuse");
if (!root) {
  if (process.env.CI === "true") throw new Error("legacy-mount.test.ts needs root and /dev/fuse, and CI has both");
  process.stderr.write("SKIP legacy-mount.test.ts: FUSE mounts need root and /dev/fuse\n");
}
const base = mkdtempSync(join(tmpdir(), "danaus-legacy-"));
const MOUNT = join(base, "mnt");
let h: Harness;
let client: DanausClient;

const mounted = (): boolean => isMountPoint(MOUNT);

beforeAll(async () => {
  if (!root) return;
  const tenant = [`name = "alpha"`, `cpus = [0]`, `memory = "384MiB"`, `shareCpus = true`, `[backend]`, `kind = "local"`, `root = "backends/alpha"`,
    `[[mounts]]`, `path = "${MOUNT}"`, `source = "data"`, `legacy = true`].join("\n");
  h = new Harness({ tenants: { alpha: tenant } });
  await h.start(["alpha"]);
  await waitFor("the FUSE mount", () => mounted());
  client = DanausClient.connect({ socket: join(h.dir, "state/run/alpha/router.sock") });
}, 60_000);
afterAll(async () => {
  client?.disconnect();
  await h?.stop();
  if (mounted()) Bun.spawnSync(["umount", "-l", MOUNT]);
  rmSync(base, { recursive: true, force: true });
}, 60_000);

test.skipIf(!root)("a write on either path is read at once on the other", () => {
  writeFileSync(join(MOUNT, "via-kernel"), "written through FUSE");
  const fd = client.open(`${MOUNT}/via-kernel`, constants.O_RDONLY, 0);
  const buffer = new Uint8Array(100);
  expect(new TextDecoder().decode(buffer.subarray(0, client.pread(fd, buffer, 0)))).toBe("written through FUSE");
  client.close(fd);
  const out = client.open(`${MOUNT}/via-client`, constants.O_CREAT | constants.O_WRONLY, 0o644);
  client.write(out, "written through the ring");
  client.close(out);
  expect(readFileSync(join(MOUNT, "via-client"), "utf8")).toBe("written through the ring");
});

test.skipIf(!root)("a script stored in the mount is exec'd by the kernel", () => {
  writeFileSync(join(MOUNT, "hello.sh"), "#!/bin/sh\necho hello from $(basename $0)\n", { mode: 0o755 });
  const run = Bun.spawnSync([join(MOUNT, "hello.sh")], { stdout: "pipe" });
  expect(run.exitCode).toBe(0);
  expect(run.stdout.toString()).toBe("hello from hello.sh\n");
});

test.skipIf(!root)("after fuse-legacy is killed the mount comes back and the next open works", async () => {
  const before = (await h.pids("alpha"))["fuse-legacy"];
  await h.ok({ cmd: "fault", kind: "kill", tenant: "alpha", service: "fuse-legacy" });
  await waitFor("a new fuse-legacy", async () => {
    const pid = (await h.pids("alpha"))["fuse-legacy"];
    return pid !== null && pid !== before ? pid : null;
  });
  const content = await waitFor("the remounted file", () => {
    try {
      return readFileSync(join(MOUNT, "via-kernel"), "utf8");
    } catch {
      return null;
    }
  });
  expect(content).toBe("written through FUSE");
  // The user-level path never noticed.
  const fd = client.open(`${MOUNT}/via-client`, constants.O_RDONLY, 0);
  client.close(fd);
});
