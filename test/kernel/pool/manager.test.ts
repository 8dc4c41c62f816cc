/** @module test/kernel/pool/manager — PoolManager on the real cgroupfs: pinning, memory isolation, re-creation, clean-up. */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PLACEMENT_FAILED_EXIT, PoolError, PoolManager, type PoolSupport } from "../../../kernel/pool/index.ts";
import { bun, cgroupsUnavailable, firstLine, instanceName, statusField, support, TestResources } from "./fixtures.ts";

const MiB = 1024 * 1024;
const skip = cgroupsUnavailable("manager.test.ts");
const resources = new TestResources();

afterEach(async () => {
  await resources.cleanUp();
});

/** The hierarchy roots the manager's groups live under on this host. */
function hierarchyRoots(): string[] {
  if (support.kind === "cgroup-v1") return [support.cpusetRoot, support.memoryRoot];
  if (support.kind === "cgroup-v2") return [support.root];
  return [];
}

/** A manager for a fresh instance, removed after the test. */
function newManager(instance = instanceName()): { manager: PoolManager; instance: string } {
  return { manager: resources.track(new PoolManager(instance, support)), instance };
}

/** A child that prints its own /proc/self/status and /proc/self/cgroup as its very first act, then idles. */
const REPORT_THEN_IDLE =
  'const s = require("node:fs").readFileSync("/proc/self/status", "utf8"), c = require("node:fs").readFileSync("/proc/self/cgroup", "utf8");' +
  " console.log(JSON.stringify({ status: s, cgroup: c })); setInterval(() => {}, 1000);";

/** Whether /proc/<pid>/cgroup puts `pid` in `/danaus.<instance>/<tenant>` for every hierarchy the pool uses. */
function cgroupLinesFor(cgroupText: string, instance: string, tenant: string): string[] {
  const group = `/danaus.${instance}/${tenant}`;
  return cgroupText.split("\n").filter((line) => line.endsWith(`:${group}`));
}

function expectedGroupLines(): number {
  return support.kind === "cgroup-v1" ? 2 : 1;
}

describe.skipIf(skip)("PoolManager on this host's cgroups", () => {
  for (const cpus of [[0], [1], [0, 1]]) {
    test(`a wrapped process runs only on cpus ${JSON.stringify(cpus)} and in the tenant's group from its first statement`, async () => {
      const { manager, instance } = newManager();
      const tenant = `cpus-${cpus.join("")}`;
      const pool = manager.create({ tenant, cpus, memoryBytes: 256 * MiB });
      expect(pool.pinned).toBe(true);
      const child = resources.spawn(pool.wrap([bun, "-e", REPORT_THEN_IDLE]));
      const seen = JSON.parse(await firstLine(child)) as { status: string; cgroup: string };
      const expected = cpus.length === 2 ? "0-1" : String(cpus[0]);

      // What the child saw of itself before running anything else.
      expect(statusField(seen.status, "Cpus_allowed_list")).toBe(expected);
      expect(cgroupLinesFor(seen.cgroup, instance, tenant)).toHaveLength(expectedGroupLines());
      // What the host sees of it, for every thread Bun started.
      expect(statusField(readFileSync(`/proc/${child.pid}/status`, "utf8"), "Cpus_allowed_list")).toBe(expected);
      for (const thread of readdirSync(`/proc/${child.pid}/task`)) {
        expect(statusField(readFileSync(`/proc/${child.pid}/task/${thread}/status`, "utf8"), "Cpus_allowed_list")).toBe(expected);
      }
      expect(cgroupLinesFor(readFileSync(`/proc/${child.pid}/cgroup`, "utf8"), instance, tenant)).toHaveLength(expectedGroupLines());
      expect(pool.memoryUsage()).toBeGreaterThan(0);
    });
  }

  test("a process that overruns its pool's memory is OOM-killed there, and the neighbouring pool is untouched", async () => {
    const { manager } = newManager();
    const a = manager.create({ tenant: "a", cpus: [0], memoryBytes: 256 * MiB });
    const b = manager.create({ tenant: "b", cpus: [1], memoryBytes: 256 * MiB });
    const idler = resources.spawn(b.wrap([bun, "-e", 'console.log("ready"); setInterval(() => {}, 1000);']));
    expect(await firstLine(idler)).toBe("ready");

    const hog = resources.spawn(
      a.wrap([bun, "-e", "const kept = []; for (let i = 0; i < 600 / 16; i++) kept.push(Buffer.alloc(16 << 20, 1)); console.log(`survived ${kept.length}`);"]),
    );
    await hog.exited;
    expect(await new Response(hog.stdout).text()).toBe("");
    expect(hog.signalCode).toBe("SIGKILL");
    expect(a.oomKills()).toBeGreaterThanOrEqual(1);

    expect(idler.exitCode).toBeNull();
    expect(idler.signalCode).toBeNull();
    expect(() => process.kill(idler.pid, 0)).not.toThrow();
    expect(statusField(readFileSync(`/proc/${idler.pid}/status`, "utf8"), "State")).not.toStartWith("Z");
    expect(b.oomKills()).toBe(0);
  }, 30_000);

  test("removeAll leaves no danaus.<instance> directory in any hierarchy, even right after its processes were killed", async () => {
    const { manager, instance } = newManager();
    const pools = [0, 1].map((cpu) => manager.create({ tenant: `t${cpu}`, cpus: [cpu], memoryBytes: 128 * MiB }));
    const children = pools.map((pool) => resources.spawn(pool.wrap([bun, "-e", 'console.log("ready"); setInterval(() => {}, 1000);'])));
    for (const child of children) expect(await firstLine(child)).toBe("ready");
    for (const root of hierarchyRoots()) expect(existsSync(join(root, `danaus.${instance}`))).toBe(true);

    for (const child of children) child.kill("SIGKILL");
    await manager.removeAll();
    for (const root of hierarchyRoots()) expect(existsSync(join(root, `danaus.${instance}`))).toBe(false);
    await manager.removeAll();
  });

  test("pool.remove() removes only its tenant and is idempotent; a wrap of a removed pool fails placement", async () => {
    const { manager, instance } = newManager();
    const gone = manager.create({ tenant: "gone", cpus: [0], memoryBytes: 64 * MiB });
    manager.create({ tenant: "kept", cpus: [1], memoryBytes: 64 * MiB });
    await gone.remove();
    await gone.remove();
    for (const root of hierarchyRoots()) {
      expect(existsSync(join(root, `danaus.${instance}`, "gone"))).toBe(false);
      expect(existsSync(join(root, `danaus.${instance}`, "kept"))).toBe(true);
    }
    expect(gone.oomKills()).toBe(0);
    expect(gone.memoryUsage()).toBeNull();

    const child = resources.spawn(gone.wrap(["/bin/sh", "-c", "echo ran"]));
    expect(await child.exited).toBe(PLACEMENT_FAILED_EXIT);
    expect(await new Response(child.stdout).text()).toBe("");
  });

  test.skipIf(support.kind !== "cgroup-v1")("a cgroup.procs write the kernel refuses makes the process exit 97 before it runs", async () => {
    const { manager, instance } = newManager();
    const pool = manager.create({ tenant: "nocpus", cpus: [0], memoryBytes: 64 * MiB });
    // A v1 cpuset with no cpus refuses new members (ENOSPC).
    if (support.kind === "cgroup-v1") writeFileSync(join(support.cpusetRoot, `danaus.${instance}`, "nocpus", "cpuset.cpus"), "\n");
    const child = resources.spawn(pool.wrap(["/bin/sh", "-c", "echo ran"]));
    expect(await child.exited).toBe(PLACEMENT_FAILED_EXIT);
    expect(await new Response(child.stdout).text()).toBe("");
    expect(await new Response(child.stderr).text()).toContain("danaus-pool: could not join the pool's cgroups");
  });

  test("a stale group with processes is never killed: create throws PoolError; once empty it is made afresh", async () => {
    const instance = instanceName();
    const crashed = newManager(instance).manager;
    const old = crashed.create({ tenant: "t", cpus: [0], memoryBytes: 64 * MiB });
    const straggler = resources.spawn(old.wrap([bun, "-e", 'console.log("ready"); setInterval(() => {}, 1000);']));
    expect(await firstLine(straggler)).toBe("ready");

    const restarted = newManager(instance).manager;
    let caught: unknown;
    try {
      restarted.create({ tenant: "t", cpus: [1], memoryBytes: 64 * MiB });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PoolError);
    expect(caught).toMatchObject({ tenant: "t", code: "EBUSY", path: expect.stringContaining(`danaus.${instance}/t`) });
    expect((caught as PoolError).message).toContain(String(straggler.pid));
    expect(straggler.exitCode).toBeNull();

    straggler.kill("SIGKILL");
    await straggler.exited;
    const fresh = restarted.create({ tenant: "t", cpus: [1], memoryBytes: 64 * MiB });
    const child = resources.spawn(fresh.wrap([bun, "-e", REPORT_THEN_IDLE]));
    const seen = JSON.parse(await firstLine(child)) as { status: string };
    expect(statusField(seen.status, "Cpus_allowed_list")).toBe("1");
    expect(fresh.oomKills()).toBe(0);
  });

  test("creating the same tenant twice re-creates it; the older handle no longer owns the group", async () => {
    const { manager, instance } = newManager();
    const first = manager.create({ tenant: "t", cpus: [0], memoryBytes: 64 * MiB });
    const second = manager.create({ tenant: "t", cpus: [1], memoryBytes: 32 * MiB });
    await first.remove();
    for (const root of hierarchyRoots()) expect(existsSync(join(root, `danaus.${instance}`, "t"))).toBe(true);
    expect(second.memoryUsage()).not.toBeNull();
  });

  test("cpus the host does not have are refused with a PoolError and leave no tenant group", () => {
    const { manager, instance } = newManager();
    let caught: unknown;
    try {
      manager.create({ tenant: "far", cpus: [0, 4095], memoryBytes: 64 * MiB });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PoolError);
    expect(caught).toMatchObject({ tenant: "far", code: "EINVAL" });
    expect((caught as PoolError).message).toContain("4095");
    for (const root of hierarchyRoots()) expect(existsSync(join(root, `danaus.${instance}`, "far"))).toBe(false);
  });

  test("removeAll rejects with PoolError while a pool still holds a process, and succeeds once it is gone", async () => {
    const { manager, instance } = newManager();
    const pool = manager.create({ tenant: "busy", cpus: [0], memoryBytes: 64 * MiB });
    const child = resources.spawn(pool.wrap([bun, "-e", 'console.log("ready"); setInterval(() => {}, 1000);']));
    expect(await firstLine(child)).toBe("ready");
    const started = Date.now();
    let caught: unknown;
    await manager.removeAll().catch((error: unknown) => (caught = error));
    expect(caught).toBeInstanceOf(PoolError);
    expect(caught).toMatchObject({ tenant: "busy", code: "EBUSY" });
    expect((caught as PoolError).message).toContain(String(child.pid));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(child.exitCode).toBeNull();
    child.kill("SIGKILL");
    await child.exited;
    await manager.removeAll();
    for (const root of hierarchyRoots()) expect(existsSync(join(root, `danaus.${instance}`))).toBe(false);
  }, 15_000);
});

describe("PoolManager without pool support", () => {
  const unavailable: PoolSupport = { kind: "unavailable", reason: "test: no cgroups" };

  test("hands out unpinned pools whose wrap() returns argv unchanged", async () => {
    const manager = new PoolManager(instanceName(), unavailable);
    expect(manager.support).toBe(unavailable);
    const pool = manager.create({ tenant: "t", cpus: [0], memoryBytes: 64 * MiB });
    const argv = ["/bin/echo", "it's", "a b"];
    expect(pool.pinned).toBe(false);
    expect(pool.wrap(argv)).toEqual(argv);
    expect(pool.oomKills()).toBe(0);
    expect(pool.memoryUsage()).toBeNull();
    await pool.remove();
    await manager.removeAll();
  });

  test("still refuses an invalid spec", () => {
    const manager = new PoolManager(instanceName(), unavailable);
    expect(() => manager.create({ tenant: "../escape", cpus: [0], memoryBytes: 1 })).toThrow(PoolError);
  });

  test("refuses an instance name that is not a plain directory name", () => {
    expect(() => new PoolManager("a/b", unavailable)).toThrow(RangeError);
  });
});
