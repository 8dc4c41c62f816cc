/**
 * @module test/services/client-cache/ceph-data-path — the whole user-level data path on the real cluster: the
 * conformance suite through the shared-memory client, two tenants on one cluster kept apart, and what a SIGKILLed
 * tenant service loses under `writeback = "sync"` (nothing acknowledged) and `"async"` (at most the dirty data of
 * the last interval; fsynced data never).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { BackendConfig, CacheConfig } from "../../../kernel/config/index.ts";
import { CephBackend, CephMount } from "../../../services/client-cache/backend/index.ts";
import { DanausClient } from "../../../shims/ts/index.ts";
import { testCephConf } from "../../ceph.ts";
import { runConformance } from "../../conformance/index.ts";
import { expectErrno, O_CREAT, O_RDONLY, O_RDWR, O_WRONLY, readFile, writeFile } from "../../conformance/harness.ts";
import { startTestRouter, type TestRouter } from "../ipc-router/router-harness.ts";
import { removeCephTree } from "./backend/cephfs-tree.ts";

const conf = testCephConf("test/services/client-cache/ceph-data-path.test.ts");
const BASE = `danaus-data-path-${process.pid}`;

function ceph(root: string): BackendConfig {
  return { kind: "cephfs", conf: conf!, fs: "cephfs", root: `/${BASE}/${root}`, clientId: "admin" };
}

function pattern(length: number, seed: number): Uint8Array {
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) data[i] = (i * 31 + seed * 7 + (i >>> 9)) & 0xff;
  return data;
}

describe.skipIf(conf === null)("the data path on Ceph", () => {
  afterAll(() => removeCephTree(conf!, `/${BASE}`), 120_000);

  describe("conformance through the shared-memory client", () => {
    const MOUNTS = 128;
    let router: TestRouter;
    let client: DanausClient;
    let next = 0;
    beforeAll(async () => {
      router = await startTestRouter({ mounts: MOUNTS, backend: ceph("conformance") });
      client = DanausClient.connect({ socket: router.socket });
    }, 60_000);
    afterAll(async () => {
      client?.disconnect();
      await router?.stop();
    }, 30_000);
    runConformance("cephfs backend through the ring", {
      async newFs() {
        if (next >= MOUNTS) throw new Error(`only ${MOUNTS} fresh mounts; raise MOUNTS`);
        return { fs: client.fileSystem(`/m${next++}`), cleanup() {} };
      },
      capabilities: { renameFlags: false, chown: true, hardLinks: true, largeFiles: true, symlinks: true },
    });
  });

  describe("union mounts on Ceph through the shared-memory client", () => {
    const MOUNTS = 128;
    let router: TestRouter;
    let client: DanausClient;
    let next = 1;
    beforeAll(async () => {
      // The image layers, written straight into the tenant's root on the cluster.
      const admin = CephMount.open({ conf: conf!, clientId: "admin" });
      try {
        const fs = new CephBackend(admin.shared, "");
        for (const dir of [BASE, `${BASE}/union`, `${BASE}/union/images`, `${BASE}/union/images/empty`, `${BASE}/union/images/empty/layer0`, `${BASE}/union/images/base`, `${BASE}/union/images/base/layer0`, `${BASE}/union/images/base/layer0/etc`]) {
          try {
            fs.mkdir(`/${dir}`, 0o755);
          } catch {
            // exists
          }
        }
        writeFile(fs, `/${BASE}/union/images/base/layer0/etc/motd`, "from the image");
        // A lower directory tree with a hard-linked file and a symlink, for the directory rename below.
        const srv = `/${BASE}/union/images/base/layer0/srv`;
        for (const dir of [srv, `${srv}/sub`]) fs.mkdir(dir, 0o755);
        writeFile(fs, `${srv}/sub/g`, "deep");
        writeFile(fs, `${srv}/h1`, "linked");
        fs.link(`${srv}/h1`, `${srv}/h2`);
        fs.symlink("h1", `${srv}/link`);
      } finally {
        admin.close();
      }
      const unions = [{ upper: "containers/image/upper", lowers: ["images/base/layer0"] }];
      for (let i = 1; i < MOUNTS; i++) unions.push({ upper: `containers/c${i}/upper`, lowers: ["images/empty/layer0"] });
      router = await startTestRouter({ mounts: 0, unions, backend: ceph("union") });
      client = DanausClient.connect({ socket: router.socket });
    }, 60_000);
    afterAll(async () => {
      client?.disconnect();
      await router?.stop();
    }, 30_000);

    test("a lower file on the cluster is read, copied up on append, and the layer is untouched", () => {
      const fs = client.fileSystem("/u0");
      expect(readFile(fs, "/etc/motd")).toBe("from the image");
      const fd = fs.open("/etc/motd", O_WRONLY | 0o2000, 0);
      fs.write(fd, new TextEncoder().encode(", changed"));
      fs.close(fd);
      expect(readFile(fs, "/etc/motd")).toBe("from the image, changed");
      fs.unlink("/etc/motd");
      expectErrno("ENOENT", () => fs.stat("/etc/motd"));
      const admin = CephMount.open({ conf: conf!, clientId: "admin" });
      try {
        const raw = new CephBackend(admin.shared, `${BASE}/union`);
        expect(readFile(raw, "/images/base/layer0/etc/motd")).toBe("from the image");
        expect(raw.lstat("/containers/image/upper/etc/.wh.motd").st_size).toBe(0);
      } finally {
        admin.close();
      }
    });

    test("a lower directory on the cluster is renamed (its tree copied up); its hard-linked files stay one file", () => {
      const fs = client.fileSystem("/u0");
      expect(fs.lstat("/srv/h1").st_nlink).toBe(2);
      fs.rename("/srv", "/srv2", 0);
      expectErrno("ENOENT", () => fs.stat("/srv"));
      expect(readFile(fs, "/srv2/sub/g")).toBe("deep");
      expect(fs.readlink("/srv2/link")).toBe("h1");
      fs.chmod("/srv2/h2", 0o600);
      const [h1, h2] = [fs.lstat("/srv2/h1"), fs.lstat("/srv2/h2")];
      expect([h1.st_nlink, h2.st_nlink, h1.st_mode & 0o777, h1.st_ino === h2.st_ino]).toEqual([2, 2, 0o600, true]);
      fs.unlink("/srv2/h1");
      expect(fs.lstat("/srv2/h2").st_nlink).toBe(1);
      expect(readFile(fs, "/srv2/h2")).toBe("linked");
      const admin = CephMount.open({ conf: conf!, clientId: "admin" });
      try {
        const raw = new CephBackend(admin.shared, `${BASE}/union`);
        expect(raw.lstat("/images/base/layer0/srv/h1").st_nlink).toBe(2);
        expect(raw.lstat("/containers/image/upper/.wh.srv").st_size).toBe(0);
        expect(raw.lstat("/containers/image/upper/srv2/.wh..wh..opq").st_size).toBe(0);
      } finally {
        admin.close();
      }
    });

    runConformance("union over cephfs through the ring", {
      async newFs() {
        if (next >= MOUNTS) throw new Error(`only ${MOUNTS} fresh union mounts; raise MOUNTS`);
        return { fs: client.fileSystem(`/u${next++}`), cleanup() {} };
      },
      capabilities: { renameFlags: false, chown: true, hardLinks: true, largeFiles: true, symlinks: true },
    });
  });

  test("two tenants with different roots on one cluster cannot see or touch each other's files", async () => {
    const alpha = await startTestRouter({ backend: ceph("alpha") });
    const beta = await startTestRouter({ backend: ceph("beta") });
    const a = DanausClient.connect({ socket: alpha.socket });
    const b = DanausClient.connect({ socket: beta.socket });
    try {
      const fa = a.fileSystem("/m0");
      const fb = b.fileSystem("/m0");
      writeFile(fa, "/secret", "alpha only");
      fa.mkdir("/dir", 0o700);
      // beta's root is /BASE/beta/m0: alpha's file is /BASE/alpha/m0/secret.
      for (const path of ["/../../alpha/m0/secret", "/../alpha/m0/secret", `/../../../${BASE}/alpha/m0/secret`, "/secret"]) {
        expectErrno("ENOENT", () => fb.open(path, O_RDONLY, 0));
        expectErrno("ENOENT", () => fb.stat(path));
      }
      for (const [name, target] of [["abs", `/${BASE}/alpha/m0/secret`], ["rel", "../../../alpha/m0/secret"], ["up", "../../../../.."]] as const) {
        fb.symlink(target, `/${name}`);
      }
      expectErrno("ENOENT", () => fb.open("/abs", O_RDONLY, 0));
      expectErrno("ENOENT", () => fb.open("/rel", O_RDONLY, 0));
      // ".." past the root stays at beta's root: "up" resolves to beta's own root, which holds only beta's names.
      const listed = fb.readdir(fb.open("/up", O_RDONLY | 0o200000, 0), 0).map((e) => e.name).sort();
      expect(listed).toEqual(["abs", "rel", "up"]);
      expectErrno("ENOENT", () => fb.open("/up/secret", O_RDONLY, 0));
      expectErrno("ENOENT", () => fb.unlink("/../alpha/m0/secret"));
      expectErrno("ENOENT", () => fb.rename("/abs", "/../alpha/m0/secret", 0));
      // Creating through an escaping path lands inside beta (or fails); alpha's file is untouched either way.
      try {
        writeFile(fb, "/up/secret", "beta was here");
      } catch {
        // refused: fine too
      }
      expect(readFile(fa, "/secret")).toBe("alpha only");
      expect(fa.readdir(fa.open("/", O_RDONLY | 0o200000, 0), 0).map((e) => e.name).sort()).toEqual(["dir", "secret"]);
    } finally {
      a.disconnect();
      b.disconnect();
      await alpha.stop();
      await beta.stop();
    }
  }, 60_000);

  /** Writes `count` files of `bytes` through a fresh router of tenant `name`, kills it, and reads back through its restart. */
  async function writeKillRead(name: string, cache: Partial<CacheConfig>, body: (fs: ReturnType<DanausClient["fileSystem"]>) => Promise<void>): Promise<ReturnType<DanausClient["fileSystem"]>> {
    const first = await startTestRouter({ name, backend: ceph(name), cache });
    const writer = DanausClient.connect({ socket: first.socket });
    try {
      await body(writer.fileSystem("/m0"));
    } finally {
      first.proc.kill("SIGKILL");
      await first.proc.exited;
      writer.disconnect();
      await first.stop();
    }
    // The restarted service takes over the killed one's Ceph session (same tenant, same session name) at once.
    const second = await startTestRouter({ name, backend: ceph(name), cache });
    const reader = DanausClient.connect({ socket: second.socket });
    afterCleanups.push(async () => {
      reader.disconnect();
      await second.stop();
    });
    return reader.fileSystem("/m0");
  }
  const afterCleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of afterCleanups) await cleanup();
  }, 60_000);

  test('writeback = "sync": a SIGKILL right after acknowledged writes loses none of them', async () => {
    const files = 16;
    const size = 300_000;
    const fs = await writeKillRead("durable-sync", { writeback: "sync", writebackMs: 60_000, expireMs: 60_000 }, async (w) => {
      for (let i = 0; i < files; i++) {
        const fd = w.open(`/f${i}`, O_CREAT | O_WRONLY, 0o644);
        expect(w.pwrite(fd, pattern(size, i), 0)).toBe(size);
        // No close, no fsync: the acknowledgement alone must be enough.
      }
    });
    for (let i = 0; i < files; i++) {
      expect(fs.stat(`/f${i}`).st_size).toBe(size);
      const fd = fs.open(`/f${i}`, O_RDONLY, 0);
      const back = new Uint8Array(size);
      expect(fs.pread(fd, back, 0)).toBe(size);
      expect(Buffer.from(back).equals(Buffer.from(pattern(size, i)))).toBe(true);
      fs.close(fd);
    }
  }, 120_000);

  test('writeback = "async": fsynced and written-back data survive a SIGKILL; only the last interval\'s dirty data may be lost', async () => {
    const size = 200_000;
    const writebackMs = 200;
    const expireMs = 400;
    const fs = await writeKillRead("durable-async", { writeback: "async", writebackMs, expireMs }, async (w) => {
      const synced = w.open("/synced", O_CREAT | O_RDWR, 0o644);
      w.pwrite(synced, pattern(size, 1), 0);
      w.fsync(synced);
      const aged = w.open("/aged", O_CREAT | O_RDWR, 0o644);
      w.pwrite(aged, pattern(size, 2), 0);
      // Older than expireMs, and a write-back tick has passed since: on the cluster.
      await Bun.sleep(expireMs + 3 * writebackMs);
      const fresh = w.open("/fresh", O_CREAT | O_RDWR, 0o644);
      w.pwrite(fresh, pattern(size, 3), 0);
      // Killed at once: /fresh may be lost, as documented.
    });
    for (const [name, seed] of [["/synced", 1], ["/aged", 2]] as const) {
      const fd = fs.open(name, O_RDONLY, 0);
      const back = new Uint8Array(size);
      expect(fs.pread(fd, back, 0)).toBe(size);
      expect(Buffer.from(back).equals(Buffer.from(pattern(size, seed)))).toBe(true);
      fs.close(fd);
    }
    // /fresh exists (its create reached the MDS) and holds either nothing yet or the whole write, never garbage.
    const st = fs.stat("/fresh");
    expect([0, size]).toContain(st.st_size);
    if (st.st_size === size) {
      const back = new Uint8Array(size);
      const fd = fs.open("/fresh", O_RDONLY, 0);
      fs.pread(fd, back, 0);
      fs.close(fd);
      expect(Buffer.from(back).equals(Buffer.from(pattern(size, 3)))).toBe(true);
    }
  }, 120_000);
});
