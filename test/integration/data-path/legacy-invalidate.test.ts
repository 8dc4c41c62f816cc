/**
 * A write through the user-level path reaches what the kernel path cached: a process maps a file of a tenant's legacy
 * mount MAP_SHARED (the default direct-I/O mount allows it), a shared-memory client of the tenant writes the file
 * through the ring, and the tenant service tells fuse-legacy (its "watch" connection), which invalidates the node
 * (FUSE_NOTIFY_INVAL_INODE): the mapping shows the new bytes, and stat through any name the new size, mode, times and
 * link count, without waiting for the attribute timeout (ten minutes here). legacy-in-process.test.ts checks the
 * mapping with fuse-legacy in the data-path process.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { constants, linkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../harness.ts";
import { expectClientWriteInvalidates, useLegacyTenant } from "./legacy-fixture.ts";

setDefaultTimeout(60_000);
/** The attribute and entry timeouts are 10 minutes here: only an invalidation makes a change visible within a test. */
const legacy = useLegacyTenant("legacy-invalidate.test.ts", "danaus-legacy-inval-", (mount) =>
  [`name = "alpha"`, `cpus = [0]`, `memory = "384MiB"`, `shareCpus = true`, `[backend]`, `kind = "local"`, `root = "backends/alpha"`,
    `[fuse]`, `attrTimeoutMs = 600000`, `entryTimeoutMs = 600000`,
    `[[mounts]]`, `path = "${mount}"`, `source = "data"`, `legacy = true`].join("\n"),
);

test.skipIf(!legacy.run)("a client's write through the ring shows in a kernel-path process's shared mapping and in stat of every name", () =>
  expectClientWriteInvalidates(legacy.mount, legacy.setup.client!),
);

test.skipIf(!legacy.run)("a watcher hears the files clients of other processes write, never what fuse-legacy wrote for the kernel", async () => {
  const client = legacy.setup.client!;
  const heard: [number, number][] = [];
  let pending = "";
  let acknowledged = false;
  // pid 1 has no clients: this watcher hears every process but its own (none).
  const socket = await Bun.connect({
    unix: join(legacy.setup.h!.dir, "state/run/alpha/router.sock"),
    socket: {
      open: (s) => void s.write(JSON.stringify({ op: "watch", pid: 1 }) + "\n"),
      data: (_s, chunk) => {
        pending += chunk.toString();
        for (let newline = pending.indexOf("\n"); newline >= 0; newline = pending.indexOf("\n")) {
          const line = JSON.parse(pending.slice(0, newline)) as { ok?: boolean; changed?: [number, number][] };
          pending = pending.slice(newline + 1);
          if (line.ok === true) acknowledged = true;
          heard.push(...(line.changed ?? []));
        }
      },
    },
  });
  try {
    // The watcher is there once its "ok" came back; then a write through the kernel path, then one through the ring.
    await waitFor("the watch reply", () => acknowledged);
    writeFileSync(join(legacy.mount, "by-kernel"), "through FUSE");
    const fd = client.open(`${legacy.mount}/by-client`, constants.O_CREAT | constants.O_WRONLY, 0o644);
    client.write(fd, "through the ring");
    const byClient = client.fstat(fd);
    client.close(fd);
    await waitFor("the client's write to be heard", () => heard.some(([dev, ino]) => dev === byClient.st_dev && ino === byClient.st_ino));
    const byKernel = statSync(join(legacy.mount, "by-kernel"));
    expect(heard.some(([, ino]) => ino === byKernel.ino)).toBe(false);
  } finally {
    socket.end();
  }
});

test.skipIf(!legacy.run)("a client's chmod, utimens and link show in stat through the kernel path at once, through every name", async () => {
  const client = legacy.setup.client!;
  const path = join(legacy.mount, "attrs");
  writeFileSync(path, "x", { mode: 0o644 });
  linkSync(path, join(legacy.mount, "attrs-too"));
  // Cached by the kernel for ten minutes from here.
  expect(statSync(join(legacy.mount, "attrs-too")).mode & 0o777).toBe(0o644);
  client.chmod(`${legacy.mount}/attrs`, 0o600);
  await waitFor("the new mode through the other name", () => (statSync(join(legacy.mount, "attrs-too")).mode & 0o777) === 0o600, 30_000);
  client.utimens(`${legacy.mount}/attrs`, { sec: 1000, nsec: 0 }, { sec: 2000, nsec: 0 });
  await waitFor("the new mtime", () => statSync(join(legacy.mount, "attrs-too")).mtimeMs === 2_000_000, 30_000);
  client.link(`${legacy.mount}/attrs`, `${legacy.mount}/attrs-three`);
  await waitFor("the new link count", () => statSync(path).nlink === 3, 30_000);
});
