/**
 * A write through the user-level path reaches what the kernel path cached: a process maps a file of a tenant's legacy
 * mount MAP_SHARED (the default direct-I/O mount allows it), a shared-memory client of the tenant writes the file
 * through the ring, and the tenant service tells fuse-legacy (its "watch" connection), which invalidates the node
 * (FUSE_NOTIFY_INVAL_INODE): the mapping shows the new bytes, and stat through any name the new size, mode, times and
 * link count, without waiting for the attribute timeout (ten minutes here). Names too: a name the client creates,
 * removes or renames shows through the mount at once (FUSE_NOTIFY_INVAL_ENTRY), though the kernel caches entries and
 * absences for ten minutes, whatever bytes the name holds, also once the tenant service was restarted (fuse-legacy
 * watches the new one). legacy-in-process.test.ts checks the mapping with
 * fuse-legacy in the data-path process.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { constants, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FsError } from "../../../kernel/ipc/protocol/index.ts";
import { waitFor } from "../harness.ts";
import { at, expectClientRenameShows, expectClientWriteInvalidates, SHOWS_WITHIN_MS, useLegacyTenant } from "./legacy-fixture.ts";

setDefaultTimeout(60_000);
/**
 * The attribute, entry and negative-entry timeouts are 10 minutes here: only an invalidation makes a change visible
 * within a test.
 */
const legacy = useLegacyTenant("legacy-invalidate.test.ts", "danaus-legacy-inval-", (mount) =>
  [`name = "alpha"`, `cpus = [0]`, `memory = "384MiB"`, `shareCpus = true`, `[backend]`, `kind = "local"`, `root = "backends/alpha"`,
    `[fuse]`, `attrTimeoutMs = 600000`, `entryTimeoutMs = 600000`, `negativeTimeoutMs = 600000`,
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


test.skipIf(!legacy.run)("names a client creates through the ring show through the mount at once, though their absence was cached", async () => {
  const client = legacy.setup.client!;
  const mount = legacy.mount;
  const names = ["made-file", "made-dir", "made-link", "made-\xff\x80", "made-fifo"];
  // Looked up through the mount: the kernel caches each absence for ten minutes.
  for (const name of names) expect(existsSync(at(mount, name))).toBe(false);
  client.close(client.open(at(mount, "made-file"), constants.O_CREAT | constants.O_WRONLY, 0o644));
  client.mkdir(at(mount, "made-dir"), 0o755);
  client.symlink("made-file", at(mount, "made-link"));
  const fd = client.open(at(mount, "made-\xff\x80"), constants.O_CREAT | constants.O_WRONLY, 0o644);
  client.write(fd, "bytes");
  client.close(fd);
  client.mknod(at(mount, "made-fifo"), constants.S_IFIFO | 0o644);
  await waitFor("every created name through the mount", () => names.every((name) => existsSync(at(mount, name))), SHOWS_WITHIN_MS);
  expect(statSync(at(mount, "made-dir")).isDirectory()).toBe(true);
  expect(readlinkSync(at(mount, "made-link"), "utf8")).toBe("made-file");
  expect(readFileSync(at(mount, "made-\xff\x80"), "utf8")).toBe("bytes");
  expect(statSync(at(mount, "made-fifo")).isFIFO()).toBe(true);
});

test.skipIf(!legacy.run)("names a client removes through the ring are gone through the mount at once; the other name of a file shows one link", async () => {
  const client = legacy.setup.client!;
  const mount = legacy.mount;
  mkdirSync(at(mount, "rm-\xfe"));
  writeFileSync(at(mount, "rm-\xfe", "one-\xff"), "x");
  linkSync(at(mount, "rm-\xfe", "one-\xff"), at(mount, "rm-\xfe", "two"));
  mkdirSync(at(mount, "rm-dir"));
  // Cached by the kernel for ten minutes from here.
  expect(statSync(at(mount, "rm-\xfe", "two")).nlink).toBe(2);
  expect(existsSync(at(mount, "rm-dir"))).toBe(true);
  client.unlink(at(mount, "rm-\xfe", "one-\xff"));
  client.rmdir(at(mount, "rm-dir"));
  await waitFor("the unlinked name gone through the mount", () => !existsSync(at(mount, "rm-\xfe", "one-\xff")), SHOWS_WITHIN_MS);
  await waitFor("the other name's link count", () => statSync(at(mount, "rm-\xfe", "two")).nlink === 1, SHOWS_WITHIN_MS);
  await waitFor("the removed directory gone through the mount", () => !existsSync(at(mount, "rm-dir")), SHOWS_WITHIN_MS);
  expect(readFileSync(at(mount, "rm-\xfe", "two"), "utf8")).toBe("x");
});

test.skipIf(!legacy.run)("a rename through the ring shows through the mount at once: the old name gone, the new one the moved file, the replaced file one link fewer", () =>
  expectClientRenameShows(legacy.mount, legacy.setup.client!),
);

test.skipIf(!legacy.run)("a watcher of the mount hears the name changes of other processes' clients, their bytes exact", async () => {
  const client = legacy.setup.client!;
  const heard: { kind: string; path: string; to?: string }[] = [];
  let pending = "";
  let acknowledged = false;
  const socket = await Bun.connect({
    unix: join(legacy.setup.h!.dir, "state/run/alpha/router.sock"),
    socket: {
      open: (s) => void s.write(JSON.stringify({ op: "watch", pid: 1, mount: legacy.mount }) + "\n"),
      data: (_s, chunk) => {
        pending += chunk.toString();
        for (let newline = pending.indexOf("\n"); newline >= 0; newline = pending.indexOf("\n")) {
          const line = JSON.parse(pending.slice(0, newline)) as { ok?: boolean; names?: { kind: string; path: string; to?: string }[] };
          pending = pending.slice(newline + 1);
          if (line.ok === true) acknowledged = true;
          const bytes = (base64: string) => Buffer.from(base64, "base64").toString("latin1");
          for (const n of line.names ?? []) heard.push({ kind: n.kind, path: bytes(n.path), ...(n.to === undefined ? {} : { to: bytes(n.to) }) });
        }
      },
    },
  });
  try {
    await waitFor("the watch reply", () => acknowledged);
    client.mkdir(at(legacy.mount, "w-\xff"), 0o755);
    client.rename(at(legacy.mount, "w-\xff"), at(legacy.mount, "w-\x80\xfe"));
    client.rmdir(at(legacy.mount, "w-\x80\xfe"));
    await waitFor("three name changes", () => heard.length >= 3, SHOWS_WITHIN_MS);
    expect(heard).toEqual([
      { kind: "added", path: "/w-\xff" },
      { kind: "moved", path: "/w-\xff", to: "/w-\x80\xfe" },
      { kind: "removed", path: "/w-\x80\xfe" },
    ]);
  } finally {
    socket.end();
  }
});

test.skipIf(!legacy.run)("name changes through the ring while a kernel-path process changes the same directory: nothing hangs, both views agree after", async () => {
  const client = legacy.setup.client!;
  const dir = join(legacy.mount, "busy");
  mkdirSync(dir);
  // The kernel holds the directory's lock while it waits for our replies to these, as fuse-legacy notifies about it.
  const kernelSide = Bun.spawn(["python3", "-c", `
import os, sys
d = sys.argv[1]
for i in range(600):
    p = os.path.join(d, "k%d" % i)
    open(p, "w").close()
    if i % 20 == 0:
        os.listdir(d)
    os.rename(p, p + "-moved")
    os.unlink(p + "-moved")
`, dir], { stdout: "ignore", stderr: "pipe" });
  for (let i = 0; i < 600; i++) {
    const path = `${dir}/r${i}`;
    client.close(client.open(path, constants.O_CREAT | constants.O_WRONLY, 0o644));
    client.rename(path, `${path}-moved`);
    if (i % 2 === 0) client.unlink(`${path}-moved`);
  }
  expect(await kernelSide.exited).toBe(0);
  const expected = Array.from({ length: 300 }, (_, i) => `r${2 * i + 1}-moved`).sort();
  expect(client.readdir(dir).map((e) => e.name).filter((n) => n !== "." && n !== "..").sort()).toEqual(expected);
  await waitFor("the mount to list what the client left", () => JSON.stringify(readdirSync(dir).sort()) === JSON.stringify(expected), SHOWS_WITHIN_MS);
  expect(existsSync(join(dir, "r0-moved"))).toBe(false);
  expect(existsSync(join(dir, "r1"))).toBe(false);
  expect(statSync(join(dir, "r1-moved")).isFile()).toBe(true);
});

test.skipIf(!legacy.run)("after the tenant service restarts, fuse-legacy watches the new one: a name made through the ring shows at once", async () => {
  const h = legacy.setup.h!;
  const client = legacy.setup.client!;
  const name = "made-after-restart";
  // Cached by the kernel as absent for ten minutes from here.
  expect(existsSync(join(legacy.mount, name))).toBe(false);
  const before = (await h.pids("alpha"))["ipc-router"];
  await h.ok({ cmd: "fault", kind: "kill", tenant: "alpha", service: "ipc-router" });
  await waitFor("a new ipc-router", async () => {
    const pid = (await h.pids("alpha"))["ipc-router"];
    return pid !== null && pid !== before;
  }, 60_000);
  // fuse-legacy renews its watch on its own time, and a change nobody watches is not recorded: the client makes the
  // name again (removing it first) until one making is heard. Without a renewed watch the absence stays cached.
  await waitFor("the name made through the ring, through the mount", () => {
    try {
      try {
        client.rmdir(`${legacy.mount}/${name}`);
      } catch (error) {
        if (!(error instanceof FsError && error.code === "ENOENT")) throw error;
      }
      client.mkdir(`${legacy.mount}/${name}`, 0o755);
    } catch (error) {
      // The client's calls fail while it reconnects to the new service.
      if (error instanceof FsError && (error.code === "ENOTCONN" || error.code === "ESTALE")) return false;
      throw error;
    }
    return existsSync(join(legacy.mount, name));
  }, 60_000);
  expect(statSync(join(legacy.mount, name)).isDirectory()).toBe(true);
}, 180_000);
