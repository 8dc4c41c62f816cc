/**
 * Making a mount point ready whatever its state (real FUSE, real immutable flag): a dead FUSE mount is detached, a
 * missing directory created and marked, a file in the way refused and left alone; a sealed point refuses writes
 * (root's too); released, a created point is removed and an existing one stays sealed.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mountsAt } from "../../../kernel/sys/mounts.ts";
import { CREATED_MARKER, MountPointError, prepareMountPoint, releaseMountPoint, unsealMountPoint } from "../../../services/fuse-legacy/mount-point.ts";
import { closeFuseDevice, mountFuse, openFuseDevice } from "../../../services/fuse-legacy/server/index.ts";

const root = process.getuid?.() === 0 && existsSync("/dev/fuse");
if (!root) process.stderr.write("SKIP mount-point.test.ts: FUSE mounts and the immutable flag need root and /dev/fuse\n");
const base = mkdtempSync(join(tmpdir(), "danaus-mount-point-"));

afterAll(() => {
  for (const entry of readdirSync(base)) {
    const path = join(base, entry);
    while (mountsAt(path).length > 0) Bun.spawnSync(["umount", "-l", path]);
    if (statSync(path).isDirectory()) unsealMountPoint(path);
  }
  rmSync(base, { recursive: true, force: true });
});

const code = (call: () => unknown): string => {
  try {
    call();
    return "no error";
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
};

test.skipIf(!root)("a dead FUSE mount (ENOTCONN) is detached; the directory under it is sealed and stays the user's", () => {
  const path = join(base, "dead");
  mkdirSync(path);
  const fd = openFuseDevice(path);
  mountFuse({ fd, mountPoint: path, name: "danaus.test-dead" });
  closeFuseDevice(fd);
  expect(code(() => statSync(path))).toBe("ENOTCONN");
  const prepared = prepareMountPoint(path);
  expect(prepared).toEqual({ created: false, sealed: true, detached: 1 });
  expect(mountsAt(path)).toEqual([]);
  expect(code(() => writeFileSync(join(path, "stray"), "x"))).toBe("EPERM");
  expect(releaseMountPoint(path, prepared)).toBe("sealed");
  expect(code(() => mkdirSync(join(path, "stray")))).toBe("EPERM");
  expect(readdirSync(path)).toEqual([]);
});

test.skipIf(!root)("a missing directory is created with its marker, sealed, and removed on release — also by a later run", () => {
  const path = join(base, "missing", "deep");
  const prepared = prepareMountPoint(path);
  expect(prepared).toEqual({ created: true, sealed: true, detached: 0 });
  expect(readFileSync(join(path, CREATED_MARKER), "utf8")).toContain("danaus");
  expect(code(() => writeFileSync(join(path, "stray"), "x"))).toBe("EPERM");
  // A restarted fuse-legacy finds its own point by the marker.
  expect(prepareMountPoint(path).created).toBe(true);
  expect(releaseMountPoint(path, prepared)).toBe("removed");
  expect(existsSync(path)).toBe(false);
});

test.skipIf(!root)("a file in the way: ENOTDIR, and the file is left as it was", () => {
  const path = join(base, "file");
  writeFileSync(path, "keep me");
  let thrown: unknown;
  try {
    prepareMountPoint(path);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(MountPointError);
  expect((thrown as MountPointError).errno).toBe(20);
  expect((thrown as MountPointError).message).toContain("a file is in the way");
  expect(readFileSync(path, "utf8")).toBe("keep me");
});
