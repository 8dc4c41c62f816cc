/**
 * A write through the user-level path reaches what the kernel path cached: a process maps a file of a tenant's legacy
 * mount MAP_SHARED (the default direct-I/O mount allows it), a shared-memory client of the tenant writes the file
 * through the ring, and the tenant service tells fuse-legacy (its "watch" connection), which invalidates the node
 * (FUSE_NOTIFY_INVAL_INODE): the mapping shows the new bytes, and stat through any name the new size, without waiting
 * for an attribute timeout (legacy-in-process.test.ts checks the same with fuse-legacy in the data-path process).
 */
import { setDefaultTimeout, test } from "bun:test";
import { expectClientWriteInvalidates, useLegacyTenant } from "./legacy-fixture.ts";

setDefaultTimeout(60_000);
const legacy = useLegacyTenant("legacy-invalidate.test.ts", "danaus-legacy-inval-");

test.skipIf(!legacy.run)("a client's write through the ring shows in a kernel-path process's shared mapping and in stat of every name", () =>
  expectClientWriteInvalidates(legacy.mount, legacy.setup.client!),
);
