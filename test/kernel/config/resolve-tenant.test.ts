/** @module resolve-tenant.test — defaults (tenant, else host [defaults], else built-in) and path resolution. */
import { describe, expect, test } from "bun:test";
import { ConfigError, resolveTenant, type TenantDefaults, type TenantFile } from "../../../kernel/config/index.ts";
import { hostAt } from "./fixture.ts";

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const host = hostAt("/srv/danaus");
const file = "/srv/danaus/tenants/alpha.toml";
const base = (extra: Partial<TenantFile> = {}): TenantFile => ({ name: "alpha", cpus: [3, 1, 2, 1], backend: { kind: "local", root: "data/alpha" }, ...extra });

describe("resolveTenant: built-in defaults", () => {
  const t = resolveTenant(base(), file, host, {});

  test("memory, cpus and sharing", () => {
    expect(t.memoryBytes).toBe(GiB);
    expect(t.maxDirStreams).toBe(1024);
    expect(resolveTenant(base(), file, host, { maxDirStreams: 64 }).maxDirStreams).toBe(64);
    expect(resolveTenant(base({ maxDirStreams: 32 }), file, host, { maxDirStreams: 64 }).maxDirStreams).toBe(32);
    expect(t.heldRequestMs).toBe(1000);
    expect(t.fuse.maxNodes).toBe(131072);
    expect(resolveTenant(base({ fuse: { maxNodes: 4096 } }), file, host, {}).fuse.maxNodes).toBe(4096);
    expect(resolveTenant(base({ heldRequestMs: 300 }), file, host, { heldRequestMs: 500 }).heldRequestMs).toBe(300);
    expect(t.cpus).toEqual([1, 2, 3]);
    expect(t.shareCpus).toBe(false);
    expect(t.file).toBe(file);
  });

  test("the paper's cache defaults", () => {
    expect(t.cache).toEqual({ sizeBytes: 512 * MiB, maxDirtyBytes: 256 * MiB, blockSizeBytes: 64 * 1024, writebackMs: 1000, expireMs: 5000, writeback: "async" });
  });

  test("cache and dirty limit follow the tenant's memory", () => {
    const big = resolveTenant(base({ memory: 4 * GiB }), file, host, {});
    expect(big.cache.sizeBytes).toBe(2 * GiB);
    expect(big.cache.maxDirtyBytes).toBe(GiB);
    const sized = resolveTenant(base({ cache: { size: 300 * MiB } }), file, host, {});
    expect(sized.cache.maxDirtyBytes).toBe(150 * MiB);
  });

  test("one mount of the whole backend, fuse and restart defaults", () => {
    expect(t.mounts).toEqual([{ path: "/mnt/danaus/alpha", kind: "direct", source: "", legacy: false }]);
    // threads: two serving Workers per tenant core (cpus 1, 2, 3) with fuse-legacy in its own process, one per core
    // when it shares the data-path process.
    expect(t.fuse).toEqual({ directIo: true, attrTimeoutMs: 1000, entryTimeoutMs: 1000, negativeTimeoutMs: 1000, threads: 6, maxNodes: 131072 });
    expect(resolveTenant(base({ cpus: [5] }), file, host, {}).fuse.threads).toBe(2);
    const grouped = base({ cpus: [5], topology: [["client-cache", "union", "ipc-router", "fuse-legacy"]], mounts: [{ path: "/mnt/g", source: "", legacy: true }] });
    expect(resolveTenant(grouped, file, host, {}).fuse.threads).toBe(1);
    expect(t.restart).toEqual({
      strategy: "one_for_one",
      intensity: 5,
      periodMs: 30000,
      backoffBaseMs: 100,
      backoffCapMs: 5000,
      shutdownMs: 3000,
      services: { "client-cache": "permanent", union: "permanent", "ipc-router": "permanent", "fuse-legacy": "permanent" },
    });
  });

  test("the data-path services share a process, without fuse-legacy when no mount is legacy", () => {
    expect(t.topology).toEqual([["client-cache", "union", "ipc-router"]]);
  });

  test("fuse-legacy is kept, in its own process, when a mount is legacy", () => {
    const legacy = resolveTenant(base({ mounts: [{ path: "/mnt/a", source: "", legacy: true }] }), file, host, {});
    expect(legacy.topology).toEqual([["client-cache", "union", "ipc-router"], ["fuse-legacy"]]);
  });

  test("a group left empty by dropping fuse-legacy is dropped", () => {
    const t2 = resolveTenant(base({ topology: [["client-cache", "union", "ipc-router"], ["fuse-legacy"]] }), file, host, {});
    expect(t2.topology).toEqual([["client-cache", "union", "ipc-router"]]);
  });
});

describe("resolveTenant: host [defaults]", () => {
  const defaults: TenantDefaults = {
    memory: 2 * GiB,
    shareCpus: true,
    cache: { blockSize: 128 * 1024, writeback: "sync" },
    fuse: { directIo: false, threads: 4 },
    restart: { intensity: 9, backoffCapMs: 800, services: { union: "transient" } },
    topology: [["client-cache", "union", "ipc-router"]],
  };

  test("apply where the tenant says nothing", () => {
    const t = resolveTenant(base(), file, host, defaults);
    expect(t.memoryBytes).toBe(2 * GiB);
    expect(t.shareCpus).toBe(true);
    expect(t.cache.sizeBytes).toBe(GiB);
    expect(t.cache.blockSizeBytes).toBe(128 * 1024);
    expect(t.cache.writeback).toBe("sync");
    expect(t.topology).toEqual([["client-cache", "union", "ipc-router"]]);
  });

  test("merge field by field with the tenant's cache, fuse and restart tables", () => {
    const t = resolveTenant(
      base({ cache: { expireMs: 9000 }, fuse: { attrTimeoutMs: 5, threads: 3 }, restart: { intensity: 1, services: { "ipc-router": "temporary" } } }),
      file,
      host,
      defaults,
    );
    expect(t.cache).toEqual({ sizeBytes: GiB, maxDirtyBytes: GiB / 2, blockSizeBytes: 128 * 1024, writebackMs: 1000, expireMs: 9000, writeback: "sync" });
    expect(t.fuse).toEqual({ directIo: false, attrTimeoutMs: 5, entryTimeoutMs: 1000, negativeTimeoutMs: 1000, threads: 3, maxNodes: 131072 });
    expect(t.restart.intensity).toBe(1);
    expect(t.restart.backoffCapMs).toBe(800);
    expect(t.restart.periodMs).toBe(30000);
    expect(t.restart.services).toEqual({ "client-cache": "permanent", union: "transient", "ipc-router": "temporary", "fuse-legacy": "permanent" });
  });

  test("the tenant's own values win", () => {
    const t = resolveTenant(base({ memory: GiB / 2, shareCpus: false, topology: [["client-cache"], ["union", "ipc-router"]] }), file, host, defaults);
    expect(t.memoryBytes).toBe(GiB / 2);
    expect(t.shareCpus).toBe(false);
    expect(t.topology).toEqual([["client-cache"], ["union", "ipc-router"]]);
  });

  test("an inconsistency caused by a default names the host file", () => {
    try {
      resolveTenant(base({ memory: 256 * MiB, cache: { size: 128 * MiB } }), file, host, { cache: { maxDirty: 200 * MiB } });
      throw new Error("not rejected");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const [issue] = (error as ConfigError).issues;
      expect(issue?.path).toBe("cache.maxDirty");
      expect(issue?.found).toBe(`200MiB (from [defaults] in ${host.file})`);
    }
  });
});

describe("resolveTenant: paths", () => {
  test("a relative local root is under the host state dir; an absolute one is kept", () => {
    expect(resolveTenant(base(), file, host, {}).backend).toEqual({ kind: "local", root: "/srv/danaus/state/data/alpha" });
    expect(resolveTenant(base({ backend: { kind: "local", root: "/data//alpha/" } }), file, host, {}).backend).toEqual({ kind: "local", root: "/data/alpha" });
  });

  test("a cephfs tenant stops within 10 s by default (two libcephfs unmounts), unless shutdownMs is set", () => {
    const ceph = { kind: "cephfs", conf: "ceph.conf", fs: "cephfs", root: "/t", clientId: "alpha" } as const;
    expect(resolveTenant(base({ backend: ceph }), file, host, {}).restart.shutdownMs).toBe(10_000);
    expect(resolveTenant(base({ backend: ceph, restart: { shutdownMs: 2000 } }), file, host, {}).restart.shutdownMs).toBe(2000);
    expect(resolveTenant(base({ backend: ceph }), file, host, { restart: { shutdownMs: 4000 } }).restart.shutdownMs).toBe(4000);
    expect(resolveTenant(base({}), file, host, {}).restart.shutdownMs).toBe(3000);
  });

  test("cephfs conf and keyring are relative to the tenant file", () => {
    const t = resolveTenant(base({ backend: { kind: "cephfs", conf: "ceph.conf", fs: "cephfs", root: "/tenants/alpha/", clientId: "alpha", keyring: "/etc/ceph/k" } }), file, host, {});
    expect(t.backend).toEqual({ kind: "cephfs", conf: "/srv/danaus/tenants/ceph.conf", fs: "cephfs", root: "/tenants/alpha", clientId: "alpha", keyring: "/etc/ceph/k" });
  });

  test("mount points and backend paths are normalized", () => {
    const t = resolveTenant(
      base({ mounts: [{ path: "/mnt//a/", source: "/images/x/", legacy: false }, { path: "/mnt/./b", upper: "up/", lowers: ["l1", "/l2"], legacy: true }] }),
      file,
      host,
      {},
    );
    expect(t.mounts).toEqual([
      { path: "/mnt/a", kind: "direct", source: "images/x", legacy: false },
      { path: "/mnt/b", kind: "union", upper: "up", lowers: ["l1", "l2"], legacy: true },
    ]);
  });

  test("a union mount with only an upper has no lowers", () => {
    const t = resolveTenant(base({ mounts: [{ path: "/m", upper: "u", legacy: false }] }), file, host, {});
    expect(t.mounts[0]).toEqual({ path: "/m", kind: "union", upper: "u", lowers: [], legacy: false });
  });
});
