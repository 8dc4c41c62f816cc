/**
 * Hard links through a tenant's legacy mounts under a real supervisor (fuse-legacy → shared-memory ring → tenant
 * service), with the default 1 s attribute and entry timeouts: on a direct mount and on a union mount, link counts and
 * attributes seen through every name are right at once after each change through another (the differential of
 * test/services/fuse-legacy/fixtures/link-differential.ts against a host directory, and against the tenant service's
 * own lstat through a shared-memory client, mtime left out: the service's mtime of a file just written through the
 * mount was seen to move after the kernel's last GETATTR, a file of one name too, which is not this test's matter). On the
 * union, a lower file copied up by a write through the mount shows its new inode and size at once, and the names of a
 * hard-linked lower file stay one file (one node) when one is copied up, as overlayfs with index=on keeps them.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { appendFileSync, chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMountPoint } from "../../../kernel/sys/mounts.ts";
import { freshTrees, randomLinkSteps, scriptedLinkSteps, seeThrough } from "../../services/fuse-legacy/fixtures/link-differential.ts";
import { waitFor } from "../harness.ts";
import { useLegacyTenant } from "./legacy-fixture.ts";

setDefaultTimeout(120_000);
const hostBase = mkdtempSync(join(tmpdir(), "danaus-legacy-links-host-"));
afterAll(() => rmSync(hostBase, { recursive: true, force: true }));

/** Tenant alpha: a direct legacy mount of `data` at `mount`, and a union legacy mount over an image at `mount`-union. */
function tenant(mount: string): string {
  return [`name = "alpha"`, `cpus = [0]`, `memory = "384MiB"`, `shareCpus = true`, `[backend]`, `kind = "local"`, `root = "backends/alpha"`,
    `[[mounts]]`, `path = "${mount}"`, `source = "data"`, `legacy = true`,
    `[[mounts]]`, `path = "${mount}-union"`, `upper = "containers/c1/upper"`, `lowers = ["images/base/layer0"]`, `legacy = true`].join("\n");
}

const legacy = useLegacyTenant("legacy-hard-links.test.ts", "danaus-legacy-links-", tenant, (h) => {
  // The image: a file of one name and a file of two names.
  const layer = join(h.dir, "state", "backends", "alpha", "images/base/layer0");
  mkdirSync(layer, { recursive: true });
  writeFileSync(join(layer, "solo"), "lower solo\n");
  writeFileSync(join(layer, "pair1"), "lower pair\n");
  linkSync(join(layer, "pair1"), join(layer, "pair2"));
  // Files of three names, each copied up through one name before the kernel has looked the others up.
  for (const base of ["tri", "wri", "ren"]) {
    mkdirSync(join(layer, `${base}-dir`));
    writeFileSync(join(layer, `${base}1`), "lower three\n");
    linkSync(join(layer, `${base}1`), join(layer, `${base}-dir/${base}2`));
    linkSync(join(layer, `${base}1`), join(layer, `${base}3`));
  }
});
const run = legacy.run;
const direct = legacy.mount;
const union = `${legacy.mount}-union`;
const backend = () => join(legacy.setup.h!.dir, "state", "backends", "alpha");

async function unionMounted(): Promise<void> {
  await waitFor("the union mount", () => isMountPoint(union), 30_000);
}

test.skipIf(!run)("direct mount: every name shows a change through another at once (scripted and 2 random seeds, 0 divergences)", () => {
  const served = seeThrough((path) => legacy.setup.client!.lstat(path));
  scriptedLinkSteps(freshTrees(direct, served, hostBase, false));
  expect(randomLinkSteps(() => freshTrees(direct, served, hostBase, false), [11, 12], 80)).toEqual([]);
});

test.skipIf(!run)("union mount: files made in the container show changes through every name at once (scripted and 2 random seeds, 0 divergences)", async () => {
  await unionMounted();
  const served = seeThrough((path) => legacy.setup.client!.lstat(path));
  scriptedLinkSteps(freshTrees(union, served, hostBase, false));
  expect(randomLinkSteps(() => freshTrees(union, served, hostBase, false), [21, 22], 80)).toEqual([]);
});

test.skipIf(!run)("union mount: a lower file copied up by a write shows its new inode and size at once; a link of a lower file is one node with it", async () => {
  await unionMounted();
  const solo = join(union, "solo");
  const before = lstatSync(solo);
  appendFileSync(solo, "appended\n");
  const after = lstatSync(solo);
  expect(after.size).toBe(before.size + 9);
  expect(after.ino).toBe(lstatSync(join(backend(), "containers/c1/upper/solo")).ino);
  expect(after.ino).not.toBe(before.ino);
  // Linking a lower file copies it up first; both names are then one file, and a chmod through one shows on the other.
  linkSync(solo, join(union, "solo-link"));
  expect(lstatSync(solo).nlink).toBe(2);
  chmodSync(join(union, "solo-link"), 0o600);
  expect(lstatSync(solo).mode & 0o777).toBe(0o600);
  expect(readFileSync(join(union, "solo-link"), "utf8")).toBe("lower solo\nappended\n");
});

test.skipIf(!run)("union mount: a write through one name of a hard-linked lower file shows through the other at once (one node, one file)", async () => {
  await unionMounted();
  expect(lstatSync(join(union, "pair1")).ino).toBe(lstatSync(join(union, "pair2")).ino);
  expect(lstatSync(join(union, "pair2")).nlink).toBe(2);
  appendFileSync(join(union, "pair2"), "changed\n");
  expect(readFileSync(join(union, "pair2"), "utf8")).toBe("lower pair\nchanged\n");
  expect(readFileSync(join(union, "pair1"), "utf8")).toBe("lower pair\nchanged\n");
  const [one, two] = [lstatSync(join(union, "pair1")), lstatSync(join(union, "pair2"))];
  expect({ ino: one.ino, size: one.size, nlink: one.nlink }).toEqual({ ino: two.ino, size: 19, nlink: 2 });
  chmodSync(join(union, "pair1"), 0o640);
  expect(lstatSync(join(union, "pair2")).mode & 0o777).toBe(0o640);
  expect(readFileSync(join(backend(), "images/base/layer0/pair1"), "utf8")).toBe("lower pair\n");
});

test.skipIf(!run)("union mount: the names the kernel had not looked up when a hard-linked lower file was copied up join its node (truncate, open for writing)", async () => {
  await unionMounted();
  // Copy-up by SETATTR: the kernel knows only tri1 when it truncates it.
  const tri1 = join(union, "tri1");
  expect(lstatSync(tri1).nlink).toBe(3);
  truncateSync(tri1, 3);
  chmodSync(join(union, "tri3"), 0o600);
  // Within the attribute timeout: tri1 shows the chmod through tri3 only if both names are one kernel inode.
  expect(lstatSync(tri1).mode & 0o777).toBe(0o600);
  expect(lstatSync(join(union, "tri-dir/tri2")).size).toBe(3);
  expect(lstatSync(join(union, "tri3")).ino).toBe(lstatSync(tri1).ino);
  // Copy-up by OPEN for writing.
  const wri1 = join(union, "wri1");
  expect(lstatSync(wri1).size).toBe(12);
  appendFileSync(wri1, "more\n");
  chmodSync(join(union, "wri3"), 0o640);
  truncateSync(join(union, "wri-dir/wri2"), 5);
  const [one, two, three] = ["wri1", "wri-dir/wri2", "wri3"].map((name) => lstatSync(join(union, name)));
  expect([one!.mode & 0o777, one!.size, one!.nlink]).toEqual([0o640, 5, 3]);
  expect([two!.ino, three!.ino]).toEqual([one!.ino, one!.ino]);
  expect(readFileSync(join(backend(), "images/base/layer0/wri1"), "utf8")).toBe("lower three\n");
});

test.skipIf(!run)("union mount: a hard-linked lower file copied up by a rename stays one node with the names the kernel had not looked up", async () => {
  await unionMounted();
  // The kernel knows ren1 and ren3 (one node, the lower inode) and not ren-dir/ren2 when the rename copies the file up.
  expect(lstatSync(join(union, "ren1")).ino).toBe(lstatSync(join(union, "ren3")).ino);
  renameSync(join(union, "ren1"), join(union, "ren-moved"));
  // ren2's first lookup finds the copy's inode: it must join the moved node, not get a node (and attributes) of its own.
  chmodSync(join(union, "ren-dir/ren2"), 0o600);
  truncateSync(join(union, "ren3"), 5);
  const [moved, two, three] = ["ren-moved", "ren-dir/ren2", "ren3"].map((name) => lstatSync(join(union, name)));
  expect([two!.mode & 0o777, two!.size, two!.nlink]).toEqual([0o600, 5, 3]);
  expect([moved!.mode & 0o777, moved!.size, three!.size]).toEqual([0o600, 5, 5]);
  expect([two!.ino, three!.ino]).toEqual([moved!.ino, moved!.ino]);
  expect(readFileSync(join(backend(), "images/base/layer0/ren1"), "utf8")).toBe("lower three\n");
});
