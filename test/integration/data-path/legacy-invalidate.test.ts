/**
 * A write through the user-level path reaches what the kernel path cached: a process maps a file of a tenant's legacy
 * mount MAP_SHARED (the default direct-I/O mount allows it), a shared-memory client of the tenant writes the file
 * through the ring, and the tenant service tells fuse-legacy (its "watch" connection), which invalidates the node
 * (FUSE_NOTIFY_INVAL_INODE): the mapping shows the new bytes, and stat through any name the new size, without waiting
 * for an attribute timeout. Writes through the kernel path itself are not echoed back.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { constants, linkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mapShared } from "../../services/fuse-legacy/fixtures/mapping-reader.ts";
import { waitFor } from "../harness.ts";
import { useLegacyTenant } from "./legacy-fixture.ts";

setDefaultTimeout(60_000);
const legacy = useLegacyTenant("legacy-invalidate.test.ts", "danaus-legacy-inval-");

test.skipIf(!legacy.run)("a client's write through the ring shows in a kernel-path process's shared mapping and in stat of every name", async () => {
  const client = legacy.setup.client!;
  const path = join(legacy.mount, "mapped");
  writeFileSync(path, "0123456789");
  linkSync(path, join(legacy.mount, "mapped-too"));
  const reader = mapShared(join(legacy.mount, "mapped-too"), 10);
  try {
    expect(await reader.read()).toBe("0123456789");
    expect(statSync(path).size).toBe(10);
    const fd = client.open(path, constants.O_WRONLY, 0);
    try {
      client.pwrite(fd, new TextEncoder().encode("abcdefghijKLM"), 0);
    } finally {
      client.close(fd);
    }
    expect(await waitFor("the mapping to show the client's bytes", async () => (await reader.read()) === "abcdefghij", 30_000)).toBe(true);
    expect(statSync(join(legacy.mount, "mapped-too")).size).toBe(13);
    expect(statSync(path).size).toBe(13);
  } finally {
    reader.close();
  }
});
