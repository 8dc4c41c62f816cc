/**
 * The kernel path inside the data-path process: with fuse-legacy grouped with the ipc-router in the tenant's
 * topology, the FUSE mount is served straight from the tenant storage (no shared-memory ring in between), still one
 * cache and one view with the shared-memory client. `[fuse] negativeTimeoutMs = 0` keeps absent names uncached, so a
 * name the kernel looked up in vain and the client then created is seen at once. Entries and attributes are cached for
 * ten minutes: a name the client removes or renames is gone at once only because fuse-legacy is told
 * (FUSE_NOTIFY_INVAL_ENTRY).
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { constants, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../harness.ts";
import { expectClientWriteInvalidates, expectCrossPathVisible, expectScriptRuns, startLegacy, stopLegacy, type LegacySetup } from "./legacy-fixture.ts";

setDefaultTimeout(60_000);
const root = process.getuid?.() === 0 && existsSync("/dev/fuse");
if (!root) {
  if (process.env.CI === "true") throw new Error("legacy-in-process.test.ts needs root and /dev/fuse, and CI has both");
  process.stderr.write("SKIP legacy-in-process.test.ts: FUSE mounts need root and /dev/fuse\n");
}
const base = mkdtempSync(join(tmpdir(), "danaus-legacy-inproc-"));
const MOUNT = join(base, "mnt");
let setup: Partial<LegacySetup> = {};

beforeAll(async () => {
  if (!root) return;
  const tenant = [
    `name = "alpha"`,
    `cpus = [0]`,
    `memory = "384MiB"`,
    `shareCpus = true`,
    `topology = [["client-cache", "union", "ipc-router", "fuse-legacy"]]`,
    `[backend]`,
    `kind = "local"`,
    `root = "backends/alpha"`,
    `[fuse]`,
    `negativeTimeoutMs = 0`,
    `entryTimeoutMs = 600000`,
    `attrTimeoutMs = 600000`,
    `threads = 3`,
    `[[mounts]]`,
    `path = "${MOUNT}"`,
    `source = "data"`,
    `legacy = true`,
  ].join("\n");
  setup = await startLegacy(tenant, MOUNT);
}, 60_000);
afterAll(() => stopLegacy(setup, MOUNT, base), 60_000);

test.skipIf(!root)("fuse-legacy runs in the data-path process and serves the mount from the tenant storage", async () => {
  const h = setup.h!;
  const pids = await h.pids("alpha");
  expect(pids["fuse-legacy"]).toBeGreaterThan(0);
  expect(pids["fuse-legacy"]).toBe(pids["ipc-router"]!);
  expect(h.logs.some((line) => line.includes("legacy mount served through FUSE") && line.includes("in-process"))).toBe(true);
});

test.skipIf(!root)("a write on either path is read at once on the other", () => expectCrossPathVisible(MOUNT, setup.client!));

test.skipIf(!root)("with negativeTimeoutMs = 0 a name the kernel did not find is found once the client creates it", () => {
  const name = join(MOUNT, "appears-later");
  expect(() => statSync(name)).toThrow();
  const out = setup.client!.open(name, constants.O_CREAT | constants.O_WRONLY, 0o644);
  setup.client!.close(out);
  expect(statSync(name).isFile()).toBe(true);
});

test.skipIf(!root)("a script stored in the mount is exec'd by the kernel", () => expectScriptRuns(MOUNT));

test.skipIf(!root)("a client's write through the ring shows in a kernel-path process's shared mapping and in stat of every name", () =>
  expectClientWriteInvalidates(MOUNT, setup.client!),
);

test.skipIf(!root)("a name the client renames or removes through the ring is gone through the mount at once", async () => {
  writeFileSync(join(MOUNT, "renamed-by-client"), "moved");
  writeFileSync(join(MOUNT, "removed-by-client"), "x");
  // Both entries cached by the kernel for ten minutes from here.
  expect(statSync(join(MOUNT, "renamed-by-client")).size).toBe(5);
  expect(statSync(join(MOUNT, "removed-by-client")).size).toBe(1);
  setup.client!.rename(join(MOUNT, "renamed-by-client"), join(MOUNT, "renamed-to"));
  setup.client!.unlink(join(MOUNT, "removed-by-client"));
  await waitFor("the renamed and the removed name gone", () => !existsSync(join(MOUNT, "renamed-by-client")) && !existsSync(join(MOUNT, "removed-by-client")), 10_000);
  expect(readFileSync(join(MOUNT, "renamed-to"), "utf8")).toBe("moved");
});
