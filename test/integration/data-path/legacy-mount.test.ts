/**
 * The kernel path under a real supervisor: a tenant mount with `legacy = true` is a FUSE mount served by fuse-legacy,
 * which forwards into the same tenant service as the shared-memory client — a write on either path is read at once
 * on the other — and after fuse-legacy is killed the mount comes back and the next open works.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { constants, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../harness.ts";
import { expectCrossPathVisible, expectScriptRuns, startLegacy, stopLegacy, type LegacySetup } from "./legacy-fixture.ts";

setDefaultTimeout(60_000);
const root = process.getuid?.() === 0 && existsSync("/dev/fuse");
if (!root) {
  if (process.env.CI === "true") throw new Error("legacy-mount.test.ts needs root and /dev/fuse, and CI has both");
  process.stderr.write("SKIP legacy-mount.test.ts: FUSE mounts need root and /dev/fuse\n");
}
const base = mkdtempSync(join(tmpdir(), "danaus-legacy-"));
const MOUNT = join(base, "mnt");
let setup: Partial<LegacySetup> = {};

beforeAll(async () => {
  if (!root) return;
  const tenant = [`name = "alpha"`, `cpus = [0]`, `memory = "384MiB"`, `shareCpus = true`, `[backend]`, `kind = "local"`, `root = "backends/alpha"`,
    `[[mounts]]`, `path = "${MOUNT}"`, `source = "data"`, `legacy = true`].join("\n");
  setup = await startLegacy(tenant, MOUNT);
}, 60_000);
afterAll(() => stopLegacy(setup, MOUNT, base), 60_000);

test.skipIf(!root)("a write on either path is read at once on the other", () => expectCrossPathVisible(MOUNT, setup.client!));

test.skipIf(!root)("a script stored in the mount is exec'd by the kernel", () => expectScriptRuns(MOUNT));

test.skipIf(!root)("after fuse-legacy is killed the mount comes back and the next open works", async () => {
  const h = setup.h!;
  const client = setup.client!;
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
