/**
 * Hard links through a tenant's legacy mount on the `cephfs` backend (the Ceph cluster of DANAUS_CEPH_CONF; skipped
 * with a printed reason without it): the link differential of legacy-hard-links.test.ts, where inode numbers are
 * CephFS's; a client's write through the ring reaching a kernel-path process's shared mapping; and a client's
 * rename through the ring showing through the mount at once (the kernel caches for ten minutes here). The
 * differential's "rename o over b" (b and d1/c two names of one file) is the step that used to answer ENOENT for
 * d1/c when the rename went through the service's own libcephfs client (see CephShared.renamer).
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeCephTree } from "../../services/client-cache/backend/cephfs-tree.ts";
import { freshTrees, randomLinkSteps, scriptedLinkSteps, seeThrough } from "../../services/fuse-legacy/fixtures/link-differential.ts";
import { expectClientRenameShows, expectClientWriteInvalidates, useLegacyTenant } from "./legacy-fixture.ts";

setDefaultTimeout(120_000);
const conf = process.env.DANAUS_CEPH_CONF;
if (conf === undefined) process.stderr.write("SKIP legacy-hard-links-ceph.test.ts: DANAUS_CEPH_CONF is not set (no Ceph cluster)\n");
const cephRoot = `/danaus-it-links-${process.pid}`;
const hostBase = mkdtempSync(join(tmpdir(), "danaus-legacy-links-ceph-host-"));

const legacy = useLegacyTenant("legacy-hard-links-ceph.test.ts", "danaus-legacy-links-ceph-", (mount) =>
  [`name = "alpha"`, `cpus = [0]`, `memory = "384MiB"`, `shareCpus = true`, `[backend]`, `kind = "cephfs"`, `conf = "${conf ?? ""}"`, `root = "${cephRoot}"`,
    // The harness gives a service 1.5 s to stop. This one unmounts two libcephfs clients (CephShared.renamer), and
    // an unmount can wait up to 5 s for libcephfs to let go of an inode; killed before that, the service leaves its
    // sessions holding capabilities, and removing the test's tree then waits for the MDS to time them out.
    `[restart]`, `shutdownMs = 10000`,
    `[fuse]`, `attrTimeoutMs = 600000`, `entryTimeoutMs = 600000`, `negativeTimeoutMs = 600000`,
    `[[mounts]]`, `path = "${mount}"`, `source = "data"`, `legacy = true`].join("\n"),
  undefined,
  conf !== undefined,
);
const run = legacy.run;

afterAll(() => {
  rmSync(hostBase, { recursive: true, force: true });
  if (conf !== undefined) removeCephTree(conf, cephRoot);
}, 60_000);

test.skipIf(!run)("cephfs: every name shows a change through another at once (scripted and 2 random seeds, 0 divergences)", () => {
  const served = seeThrough((path) => legacy.setup.client!.lstat(path));
  scriptedLinkSteps(freshTrees(legacy.mount, served, hostBase, false));
  expect(randomLinkSteps(() => freshTrees(legacy.mount, served, hostBase, false), [31, 32], 60)).toEqual([]);
});

test.skipIf(!run)("cephfs: a client's write through the ring shows in a kernel-path process's shared mapping", () =>
  expectClientWriteInvalidates(legacy.mount, legacy.setup.client!),
);

test.skipIf(!run)("cephfs: a client's rename through the ring shows through the mount at once", () =>
  expectClientRenameShows(legacy.mount, legacy.setup.client!),
);
