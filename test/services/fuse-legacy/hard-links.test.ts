/**
 * @module test/services/fuse-legacy/hard-links — node identity follows file identity through a real FUSE mount: every
 * name of one file is one kernel inode, so link counts and attributes seen through every name are right at once after
 * a link, chmod, write, truncate, unlink or rename through any other name, though the kernel caches attributes and
 * entries for a second (as real mounts do). Differential against a host directory and the served one (see
 * fixtures/link-differential.ts). Skipped with a printed reason when not
 * root or without /dev/fuse (failed under CI=true).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as nodeFs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FuseServer } from "../../../services/fuse-legacy/server/index.ts";
import { freshTrees, randomLinkSteps, scriptedLinkSteps } from "./fixtures/link-differential.ts";
import { mountTestsSkipped, serveLocalBackend, stopAndRemove } from "./fixtures/mount-support.ts";

const skipped = mountTestsSkipped("hard-links.test.ts");
const base = nodeFs.mkdtempSync(join(tmpdir(), "danaus-fuse-links-"));
const servers: { server?: FuseServer; mountPoint: string }[] = [];

afterAll(async () => {
  for (const { server, mountPoint } of servers) await stopAndRemove(server, mountPoint, join(base, "x-none"));
  nodeFs.rmSync(base, { recursive: true, force: true });
});

for (const directIo of [false, true]) {
  describe.skipIf(skipped !== undefined)(`hard links through a FUSE mount (directIo ${directIo}, attribute and entry timeouts 1 s)`, () => {
    const mountPoint = join(base, `mnt-${directIo}`);
    const served = join(base, `served-${directIo}`);
    const entry: { server?: FuseServer; mountPoint: string } = { mountPoint };
    servers.push(entry);

    beforeAll(async () => {
      nodeFs.mkdirSync(mountPoint, { recursive: true });
      entry.server = await serveLocalBackend(mountPoint, served, { directIo, attrTimeoutMs: 1000, entryTimeoutMs: 1000 });
    });

    test("every name shows the change made through another at once: link, chmod, write, truncate, utimes, unlink, rename over a link", () => {
      scriptedLinkSteps(freshTrees(mountPoint, served, join(base, "host")));
    });

    test("an open file stays the same file through its other names after its first name is unlinked", () => {
      const trees = freshTrees(mountPoint, served, join(base, "host"));
      const path = join(trees.mount, "f");
      nodeFs.writeFileSync(path, "12345");
      nodeFs.linkSync(path, join(trees.mount, "g"));
      const fd = nodeFs.openSync(path, "r+");
      try {
        nodeFs.unlinkSync(path);
        expect(nodeFs.fstatSync(fd).nlink).toBe(1);
        nodeFs.writeSync(fd, "abcdefgh", 0);
        expect(nodeFs.readFileSync(join(trees.mount, "g"), "utf8")).toBe("abcdefgh");
        expect(nodeFs.statSync(join(trees.mount, "g")).size).toBe(8);
        nodeFs.unlinkSync(join(trees.mount, "g"));
        expect(nodeFs.fstatSync(fd).nlink).toBe(0);
        expect(nodeFs.fstatSync(fd).size).toBe(8);
      } finally {
        nodeFs.closeSync(fd);
      }
    });

    test("random links, unlinks, renames, chmods, writes and truncates over several seeds: 0 divergences", () => {
      expect(randomLinkSteps(() => freshTrees(mountPoint, served, join(base, "host")), [1, 2, 3, 4])).toEqual([]);
    });
  });
}
