/**
 * Both front ends of a tenant come back after any fault (real supervisor, real FUSE): after a kill of any data-path
 * process, the legacy mount (fuse-legacy renews its registration) and the shared-memory client serve again without a
 * remount; fuse-legacy restarts over its own dead mount with the root's attributes expired, and starts over a dead FUSE
 * mount, a missing directory or a file in the way; a stopped tenant's mount point refuses writes and nothing lands in
 * the bare directory; `fault slow` slows FUSE requests; a mount that cannot be served is named in `status`, with why;
 * legacy mounts with many serving threads all get request buffers.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, writeSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mountsAt } from "../../kernel/sys/mounts.ts";
import { unsealMountPoint } from "../../services/fuse-legacy/mount-point.ts";
import { closeFuseDevice, mountFuse, openFuseDevice } from "../../services/fuse-legacy/server/index.ts";
import { FsError } from "../../kernel/ipc/protocol/index.ts";
import { DanausClient } from "../../shims/ts/index.ts";
import { expectClientWriteInvalidates } from "./data-path/legacy-fixture.ts";
import { Harness, LAST_CPU, SPLIT_TOPOLOGY, waitFor } from "./harness.ts";

setDefaultTimeout(240_000);
/** Bound of every wait: generous, for a loaded 2-core machine (the waits end at the event, not at the bound). */
const WAIT_MS = 90_000;
const root = process.getuid?.() === 0 && existsSync("/dev/fuse");
if (!root) {
  if (process.env.CI === "true") throw new Error("front-end-recovery.test.ts needs root and /dev/fuse, and CI has both");
  process.stderr.write("SKIP front-end-recovery.test.ts: FUSE mounts need root and /dev/fuse\n");
}

const base = mkdtempSync(join(tmpdir(), "danaus-recovery-"));
/** alpha's legacy mount: a directory the user made (so it stays, sealed, while alpha is stopped). */
const A = join(base, "alpha");
/** alpha's union mount whose image was never imported: the tenant service does not serve it. */
const UNSERVED = join(base, "alpha-unserved");
/** beta's mount points, each in a state fuse-legacy must start over. */
const DEAD = join(base, "beta-dead");
const MISSING = join(base, "beta-missing", "deep");
const FILE = join(base, "beta-file");
const POINTS = [A, UNSERVED, DEAD, MISSING, FILE];

const legacy = (path: string, source = `source = "data"`) => ["[[mounts]]", `path = "${path}"`, source, "legacy = true"].join("\n");
/** A tenant file; `topology` "" is the default one (the data path in one process, fuse-legacy in another). */
const tenant = (name: string, cpu: number, memory: string, fuse: string, mounts: string[], topology = "") =>
  [`name = "${name}"`, `cpus = [${cpu}]`, `memory = "${memory}"`, "shareCpus = true", topology, "[backend]", `kind = "local"`, `root = "backends/${name}"`, "[fuse]", fuse, ...mounts].join("\n");

let h: Harness;
let client: DanausClient;

/** A client of tenant `name`'s service. */
const connect = (name: string) => DanausClient.connect({ socket: join(h.dir, `state/run/${name}/router.sock`) });

/** The text of `path`, or null while it cannot be read (the mount not served yet). */
const readOrNull = (path: string): string | null => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
};

/**
 * Writes `text` to `path` and fsyncs it: the tenant's cache writes back asynchronously, so only a synced file is
 * sure to outlive a kill of the data-path process.
 */
function writeDurably(path: string, text: string): void {
  const fd = openSync(path, "w");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The errno code a call fails with, or "no error". */
const failure = (call: () => unknown): string => {
  try {
    call();
    return "no error";
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
};

/** A FUSE mount at `path` whose server is gone: every access answers ENOTCONN. */
function leaveDeadMount(path: string): void {
  const fd = openFuseDevice(path);
  mountFuse({ fd, mountPoint: path, name: "danaus.test-dead" });
  closeFuseDevice(fd);
}

/** The stats fuse-legacy of `name` published (for `danaus status`). */
async function legacyStats(name: string): Promise<Record<string, number>> {
  return (await h.tenant(name)).stats?.["fuse-legacy"]?.stats ?? {};
}

/**
 * Starts `harness` and waits until `names` run: their start-up (four processes each, up to 64 serving Workers) may take
 * longer than Harness.start's own wait on a loaded 2-core machine. Throws with the supervisor's last log lines.
 */
async function startRunning(harness: Harness, names: string[]): Promise<void> {
  await harness.start([]);
  await waitFor(`${names.join(", ")} running`, async () => {
    const tenants = await harness.status();
    return names.every((name) => tenants.find((t) => t.name === name)?.state === "running");
  }, WAIT_MS).catch((error: Error) => {
    throw new Error(`${error.message}\n${harness.logs.slice(-20).join("\n")}`);
  });
}

beforeAll(async () => {
  if (!root) return;
  mkdirSync(A);
  mkdirSync(DEAD);
  leaveDeadMount(DEAD);
  expect(failure(() => statSync(DEAD))).toBe("ENOTCONN");
  writeFileSync(FILE, "keep me");
  // Expired at once: the kernel asks fuse-legacy for the root's attributes on every access (defect 2's condition).
  const fuse = "attrTimeoutMs = 0\nentryTimeoutMs = 0\nnegativeTimeoutMs = 0\nthreads = 1";
  h = new Harness({
    // Longer than the 1 s default: on a loaded machine a heartbeat pause must not pass for a hang (the hang test waits).
    hungAfterMs: 5000,
    tenants: {
      alpha: tenant("alpha", 0, "512MiB", fuse, [legacy(A), legacy(UNSERVED, `upper = "u/upper"\nlowers = ["images/never-imported"]`)]),
      beta: tenant("beta", LAST_CPU, "512MiB", fuse, [legacy(DEAD), legacy(MISSING), legacy(FILE)], SPLIT_TOPOLOGY),
    },
  });
  await startRunning(h, ["alpha", "beta"]);
  await waitFor("alpha's legacy mount", () => mountsAt(A).at(-1)?.startsWith("fuse"), WAIT_MS);
  client = connect("alpha");
}, 240_000);

afterAll(async () => {
  client?.disconnect();
  await h?.stop();
  for (const path of POINTS) {
    while (mountsAt(path).length > 0) Bun.spawnSync(["umount", "-l", path]);
    if (existsSync(path) && statSync(path).isDirectory()) unsealMountPoint(path);
  }
  rmSync(base, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!root)("after a fault, both front ends serve again by themselves", () => {
  // alpha: the data path is one process, which a kill of any of its services ends; beta: each service in its own.
  test.each([
    ["alpha", "union", A],
    ["alpha", "client-cache", A],
    ["alpha", "ipc-router", A],
    ["beta", "ipc-router", DEAD],
  ])("%s, kill of %s: the legacy mount and the client serve again, fuse-legacy not restarted", async (name, service, mount) => {
    const user = name === "alpha" ? client : connect(name);
    writeDurably(join(mount, `before-${service}`), `written before ${service} died`);
    const before = await h.pids(name);
    await h.ok({ cmd: "fault", kind: "kill", tenant: name, service });
    await waitFor(`a new ${service}`, async () => {
      const pid = (await h.pids(name))[service];
      return pid !== null && pid !== before[service];
    }, WAIT_MS);
    // The kernel path: the same mount, no remount by anyone.
    expect(await waitFor("the legacy mount serving again", () => readOrNull(join(mount, `before-${service}`)), WAIT_MS)).toBe(`written before ${service} died`);
    writeFileSync(join(mount, `after-${service}`), "new files work");
    expect(readFileSync(join(mount, `after-${service}`), "utf8")).toBe("new files work");
    // The user-level path: its next call after ENOTCONN reconnects.
    const size = await waitFor("the client serving again", () => {
      try {
        return user.stat(`${mount}/after-${service}`).st_size;
      } catch (error) {
        if (error instanceof FsError && error.code === "ENOTCONN") return null;
        throw error;
      }
    }, WAIT_MS);
    expect(size).toBe("new files work".length);
    if (user !== client) user.disconnect();
    expect((await h.pids(name))["fuse-legacy"]).toBe(before["fuse-legacy"]);
    expect((await h.tenant(name)).state).toBe("running");
  });

  test("after those kills, a client's write still reaches a kernel-path process's shared mapping (fuse-legacy watches the new service)", () =>
    expectClientWriteInvalidates(A, client, true),
  );

  test("kill of fuse-legacy with the mount root's attributes expired: it restarts over its dead mount and serves", async () => {
    writeFileSync(join(A, "used-once"), "used before the kill");
    const before = (await h.pids("alpha"))["fuse-legacy"];
    await h.ok({ cmd: "fault", kind: "kill", tenant: "alpha", service: "fuse-legacy" });
    await waitFor("a new fuse-legacy", async () => {
      const pid = (await h.pids("alpha"))["fuse-legacy"];
      return pid !== null && pid !== before ? pid : null;
    }, WAIT_MS);
    expect(await waitFor("the legacy mount serving again", () => readOrNull(join(A, "used-once")), WAIT_MS)).toBe("used before the kill");
    // One FUSE mount, not one stacked over the dead one.
    expect(mountsAt(A).filter((type) => type.startsWith("fuse"))).toHaveLength(1);
    expect((await h.tenant("alpha")).state).toBe("running");
  });

  test("hang of fuse-legacy: the supervisor restarts it and the legacy mount serves again", async () => {
    writeFileSync(join(A, "before-hang"), "written before the hang");
    const before = (await h.pids("alpha"))["fuse-legacy"];
    await h.ok({ cmd: "fault", kind: "hang", tenant: "alpha", service: "fuse-legacy" });
    await waitFor("a new fuse-legacy", async () => {
      const pid = (await h.pids("alpha"))["fuse-legacy"];
      return pid !== null && pid !== before ? pid : null;
    }, WAIT_MS);
    expect(await waitFor("the legacy mount serving again", () => readOrNull(join(A, "before-hang")), WAIT_MS)).toBe("written before the hang");
  });

  test("fault slow on fuse-legacy delays its FUSE requests by the latency", async () => {
    const latencyMs = 800;
    writeFileSync(join(A, "slow-probe"), "stat me");
    await h.ok({ cmd: "fault", kind: "slow", tenant: "alpha", service: "fuse-legacy", latencyMs, durationMs: 5000 });
    // A ping is answered after the fault order before it was carried out (one channel, in order).
    await h.ok({ cmd: "ping", tenant: "alpha", service: "fuse-legacy" });
    // With every timeout 0, a stat is a LOOKUP and a GETATTR the server must answer: each waits at least the latency.
    const start = performance.now();
    statSync(join(A, "slow-probe"));
    expect(performance.now() - start).toBeGreaterThanOrEqual(latencyMs);
  });
});

describe.skipIf(!root)("mount points in any state", () => {
  test("beta started over a dead FUSE mount and a missing directory, and serves both", async () => {
    for (const path of [DEAD, MISSING]) {
      writeFileSync(join(path, "hello"), `served at ${path}`);
      expect(readFileSync(join(path, "hello"), "utf8")).toBe(`served at ${path}`);
      expect(mountsAt(path).filter((type) => type.startsWith("fuse"))).toHaveLength(1);
    }
    expect((await h.tenant("beta")).state).toBe("running");
  });

  test("fuse-legacy counts the FUSE requests it answered and the time they took, in status", async () => {
    const before = await waitFor("beta's legacy counts", async () => {
      const published = await legacyStats("beta");
      return published.requests !== undefined ? published : null;
    }, WAIT_MS);
    // Each create, write and close is at least one request the kernel cannot answer from its cache.
    for (let i = 0; i < 20; i++) writeFileSync(join(DEAD, `counted-${i}`), "x");
    const after = await waitFor("the requests counted", async () => {
      const published = await legacyStats("beta");
      return published.requests! >= before.requests! + 20 ? published : null;
    }, WAIT_MS);
    expect(after.busyMicros!).toBeGreaterThan(before.busyMicros!);
  });

  test("a file in the way is left alone, and status says which mount is not served and why", async () => {
    expect(readFileSync(FILE, "utf8")).toBe("keep me");
    const stats = await waitFor("beta's legacy status", async () => {
      const published = await legacyStats("beta");
      return published.mountsServed === 2 ? published : null;
    }, WAIT_MS);
    expect(stats.mountsUnserved).toBe(1);
    const entry = Object.entries(stats).find(([key]) => key.startsWith(`${FILE} unserved`));
    expect(entry?.[0]).toContain("in the way");
    expect(entry?.[1]).toBe(20); // ENOTDIR
  });

  test("a mount the tenant service does not serve is named in status, and its mount point refuses writes", async () => {
    const stats = await waitFor("alpha's legacy status", async () => {
      const published = await legacyStats("alpha");
      return published.mountsUnserved === 1 ? published : null;
    }, WAIT_MS);
    const entry = Object.entries(stats).find(([key]) => key.startsWith(`${UNSERVED} unserved`));
    expect(entry?.[0]).toContain("does not serve");
    expect(failure(() => writeFileSync(join(UNSERVED, "lost"), "x"))).toBe("EPERM");
    expect(readdirSync(UNSERVED).filter((name) => name !== ".danaus-mount-point")).toEqual([]);
  });
});

describe.skipIf(!root)("a stopped tenant's mount point", () => {
  test("refuses writes (root's too), nothing lands in the bare directory, no mount is left; start-tenant serves it again", async () => {
    writeFileSync(join(A, "kept"), "in the tenant's storage");
    await h.ok({ cmd: "stop-tenant", tenant: "alpha" });
    await waitFor("alpha stopped", async () => (await h.tenant("alpha")).state === "stopped", WAIT_MS);
    expect(mountsAt(A)).toEqual([]);
    expect(failure(() => writeFileSync(join(A, "stray"), "would land on the host"))).toBe("EPERM");
    expect(failure(() => mkdirSync(join(A, "stray-dir")))).toBe("EPERM");
    expect(readdirSync(A)).toEqual([]);
    await h.ok({ cmd: "start-tenant", tenant: "alpha" });
    expect(await waitFor("alpha's mount back", () => readOrNull(join(A, "kept")), WAIT_MS)).toBe("in the tenant's storage");
    expect(existsSync(join(A, "stray"))).toBe(false);
  });

  test("a tenant whose fuse-legacy crash-loops fails without leaving a dead mount; its mount point refuses writes", async () => {
    writeFileSync(join(MISSING, "before-the-crashes"), "x");
    await h.ok({ cmd: "fault", kind: "crash-loop", tenant: "beta", service: "fuse-legacy", times: 20 });
    await waitFor("beta failed", async () => (await h.tenant("beta")).state === "failed", WAIT_MS);
    // The state turns failed first; the processes are stopped and the dead mounts detached after.
    await waitFor("the dead mounts detached", () => [DEAD, MISSING].every((path) => mountsAt(path).length === 0), WAIT_MS);
    for (const path of [DEAD, MISSING]) {
      expect(failure(() => writeFileSync(join(path, "stray"), "would land on the host"))).toBe("EPERM");
    }
    expect(readdirSync(DEAD)).toEqual([]);
  });

  test("shutdown leaves no mount at any mount point", async () => {
    client.disconnect();
    await h.stop();
    for (const path of POINTS) expect(existsSync(path) ? mountsAt(path) : []).toEqual([]);
  });
});

describe.skipIf(!root)("request buffers sized from the configuration", () => {
  test("four legacy mounts of 16 serving threads each (68 request buffers) are all served", async () => {
    const points = [0, 1, 2, 3].map((i) => join(base, `gamma-${i}`));
    POINTS.push(...points);
    // 64 serving Workers start on the tenant's one core: heartbeats may pause longer than the harness's 1 s default.
    const many = new Harness({ hungAfterMs: 30_000, tenants: { gamma: tenant("gamma", 0, "4GiB", "threads = 16", points.map((path) => legacy(path))) } });
    try {
      await startRunning(many, ["gamma"]);
      for (const path of points) {
        await waitFor(`the legacy mount ${path} serving`, () => {
          writeFileSync(join(path, "f"), path);
          return true;
        }, WAIT_MS);
        expect(readFileSync(join(path, "f"), "utf8")).toBe(path);
        expect(mountsAt(path).at(-1)).toBe("fuse.danaus.gamma");
      }
      const stats = (await many.tenant("gamma")).stats?.["fuse-legacy"]?.stats ?? {};
      expect(stats.mountsServed).toBe(4);
      expect(stats.mountsUnserved).toBe(0);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${many.logs.filter((line) => !line.includes('"level":"info"')).slice(-15).join("\n")}`);
    } finally {
      await many.stop();
    }
  });
});
