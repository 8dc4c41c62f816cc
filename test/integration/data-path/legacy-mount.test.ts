/**
 * The kernel path under a real supervisor: a tenant mount with `legacy = true` is a FUSE mount served by fuse-legacy,
 * which forwards into the same tenant service as the shared-memory client — a write on either path is read at once
 * on the other — and after fuse-legacy is killed the mount comes back and the next open works.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { closeSync, constants, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../harness.ts";
import { expectCrossPathVisible, expectScriptRuns, useLegacyTenant } from "./legacy-fixture.ts";

setDefaultTimeout(60_000);
const legacy = useLegacyTenant("legacy-mount.test.ts", "danaus-legacy-");
const root = legacy.run;
const MOUNT = legacy.mount;

test.skipIf(!root)("a write on either path is read at once on the other", () => expectCrossPathVisible(MOUNT, legacy.setup.client!));

test.skipIf(!root)("a script stored in the mount is exec'd by the kernel", () => expectScriptRuns(MOUNT));

test.skipIf(!root)("after fuse-legacy is killed mid-read, the reader gets ENOTCONN (or ECONNABORTED), the mount comes back and the next open works", async () => {
  const h = legacy.setup.h!;
  const client = legacy.setup.client!;
  const big = new Uint8Array(4 << 20).map((_, i) => (i * 2654435761) >>> 24);
  writeFileSync(join(MOUNT, "big"), big);
  // A reader in the middle of the file when fuse-legacy dies.
  const reader = openSync(join(MOUNT, "big"), "r");
  const first = Buffer.alloc(1 << 20);
  expect(readSync(reader, first, 0, first.length, 0)).toBe(first.length);
  const before = (await h.pids("alpha"))["fuse-legacy"];
  await h.ok({ cmd: "fault", kind: "kill", tenant: "alpha", service: "fuse-legacy" });
  let readError: unknown;
  try {
    readSync(reader, first, 0, first.length, 1 << 20);
  } catch (error) {
    readError = error;
  } finally {
    closeSync(reader);
  }
  // The kernel answers ENOTCONN on a connection that is gone, or ECONNABORTED for a request it aborted on the way.
  expect(["ENOTCONN", "ECONNABORTED"]).toContain((readError as { code?: string } | undefined)?.code ?? "no error");
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
  expect(readFileSync(join(MOUNT, "big")).equals(Buffer.from(big))).toBe(true);
  // The user-level path never noticed.
  const fd = client.open(`${MOUNT}/via-client`, constants.O_RDONLY, 0);
  client.close(fd);
});
