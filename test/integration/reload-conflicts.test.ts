/**
 * Reloads and control operations under conflict and concurrency, with a real supervisor: a running tenant keeps its
 * cores and backend against a newcomer and across a bad file; concurrent reloads, start-tenant, stop-tenant and fault
 * never run a tenant twice (counted by pid, and by FUSE mounts); shutdown racing them leaves nothing running.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { request, type Reply } from "../../kernel/control/index.ts";
import type { ReloadSummary } from "../../kernel/supervisor/index.ts";
import { alive, Harness, LAST_CPU, tenantToml, waitFor } from "./harness.ts";

// Real processes start and stop here, several at once on a slow shared machine.
setDefaultTimeout(120_000);

const fuse = process.getuid?.() === 0 && existsSync("/dev/fuse");
if (!fuse) process.stderr.write("reload-conflicts.test.ts: no root or /dev/fuse, the concurrent tenant runs without a FUSE mount\n");

/** A tenant on one core with the default topology (one data-path process), plus `extra` tables. */
const tenant = (name: string, cpu: number, extra = "") => tenantToml(name, cpu, extra, "");

/** The environment of a process, or null when it is gone or unreadable. */
function environ(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
  } catch {
    return null;
  }
}

/** Every live process of `h`'s instance, or only those serving `tenant`, whoever their parent is. */
function instancePids(h: Harness, tenant?: string): number[] {
  const runDir = tenant === undefined ? null : `DANAUS_RUN_DIR=${join(h.dir, "state", "run", tenant)}`;
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const env = environ(pid);
    if (env === null || !env.includes(`DANAUS_INSTANCE=${h.instance}`)) continue;
    if (runDir !== null && !env.includes(runDir)) continue;
    if (alive(pid)) found.push(pid);
  }
  return found.sort((a, b) => a - b);
}

/** The pids `status` shows for a tenant (distinct, sorted). */
async function statusPids(h: Harness, name: string): Promise<number[]> {
  const pids = Object.values(await h.pids(name)).filter((pid): pid is number => pid !== null);
  return [...new Set(pids)].sort((a, b) => a - b);
}

/** How many mounts sit on `path` (a stacked mount counts twice). */
function mountsAt(path: string): number {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((line) => line.split(" ")[4] === path).length;
}

/** Sends every body at once, each on its own connection; returns the replies in the same order. */
function allAtOnce(h: Harness, bodies: Record<string, unknown>[]): Promise<Reply[]> {
  return Promise.all(bodies.map((body) => request(h.socket, body, 120_000)));
}

describe("a running tenant keeps what it has on reload", () => {
  const h = new Harness({ tenants: { alpha: tenant("alpha", 0), b: tenant("b", LAST_CPU) } });
  beforeAll(() => h.start(["alpha", "b"]), 60_000);
  afterAll(() => h.stop(), 60_000);

  test("a newcomer that sorts first and takes b's cores and backend root is refused, with the conflict reported on it; b runs on", async () => {
    const before = await h.pids("b");
    const ab = tenant("ab", LAST_CPU).replace("shareCpus = true", "shareCpus = false").replace('root = "backends/ab"', 'root = "backends/b"');
    h.writeTenant("ab", ab);
    const summary = (await h.ok({ cmd: "reload" })) as ReloadSummary;
    expect(summary).toMatchObject({ started: [], stopped: [], restarted: [], kept: [], unchanged: ["alpha", "b"] });
    expect(summary.rejected.map((r) => r.tenant)).toEqual(["ab"]);
    const refused = await h.tenant("ab");
    expect(refused.state).toBe("invalid");
    expect(refused.services).toEqual([]);
    expect(refused.errors.join("\n")).toContain("cpus: expected cores not used by tenant b");
    expect(refused.errors.join("\n")).toContain("backend.root");
    const b = await h.tenant("b");
    expect(b).toMatchObject({ state: "running", errors: [] });
    expect(await h.pids("b")).toEqual(before);
    expect(instancePids(h, "ab")).toEqual([]);

    // The CLI's check of the file against the host finds the same conflicts.
    const check = await h.cli("check", join(h.dir, "tenants", "ab.toml"), "--host", h.hostFile);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain("cpus: expected cores not used by tenant b");
    expect(check.stderr).toContain("backend.root");
    h.removeTenant("ab");
    expect(((await h.ok({ cmd: "reload" })) as ReloadSummary).rejected).toEqual([]);
  });

  test("a syntax error in b's file keeps b running its last good version; status shows the error until the file is fixed", async () => {
    const before = await h.pids("b");
    h.writeTenant("b", `${tenant("b", LAST_CPU)}\nmemory = "1GiB\n`);
    const summary = (await h.ok({ cmd: "reload" })) as ReloadSummary;
    expect(summary).toMatchObject({ stopped: [], restarted: [], kept: ["b"], unchanged: ["alpha"] });
    const b = await h.tenant("b");
    expect(b.state).toBe("running");
    expect(b.errors.join("\n")).toContain("not reloaded: ");
    expect(b.errors.join("\n")).toContain("expected valid TOML");
    expect(await h.pids("b")).toEqual(before);
    h.writeTenant("b", tenant("b", LAST_CPU));
    expect(await h.ok({ cmd: "reload" })).toMatchObject({ unchanged: ["alpha", "b"], kept: [], rejected: [] });
    expect((await h.tenant("b")).errors).toEqual([]);
  });

  test("a changed name in b's file keeps b running, and no tenant of the new name starts", async () => {
    const before = await h.pids("b");
    h.writeTenant("b", tenant("c", LAST_CPU));
    const summary = (await h.ok({ cmd: "reload" })) as ReloadSummary;
    expect(summary).toMatchObject({ started: [], stopped: [], restarted: [], kept: ["b"] });
    expect((await h.status()).map((t) => [t.name, t.state])).toEqual([["alpha", "running"], ["b", "running"]]);
    expect((await h.tenant("b")).errors.join("\n")).toContain('name: expected the file\'s base name "b"');
    expect(await h.pids("b")).toEqual(before);
    h.writeTenant("b", tenant("b", LAST_CPU));
    expect(await h.ok({ cmd: "reload" })).toMatchObject({ unchanged: ["alpha", "b"], rejected: [] });
  });
  test("a clone whose mounts land inside another running tenant's mount is refused before anything is written, and clone says why", async () => {
    mkdirSync(join(h.dir, "image", "etc"), { recursive: true });
    writeFileSync(join(h.dir, "image", "etc", "motd"), "hello\n");
    const imported = await h.cli("image", "import", "alpha", "base", join(h.dir, "image"));
    expect(imported.code).toBe(0);
    const before = await h.pids("alpha");
    // alpha sorts before b: checked in name order among the files alone, the new alpha would win. Checked against b
    // as a tenant that holds its mounts, the clone is refused by clone's own check, and alpha's file stays as it was.
    const file = readFileSync(join(h.dir, "tenants", "alpha.toml"), "utf8");
    const cloned = await h.cli("clone", "alpha", "base", "1", "--prefix", "/mnt/test/b/clones");
    expect(cloned.code).toBe(1);
    expect(cloned.stderr).toContain("the clones would conflict with other tenants");
    expect(cloned.stderr).toContain("mounts[1].path: expected a mount point not equal to or nested with /mnt/test/b of tenant b");
    expect(readFileSync(join(h.dir, "tenants", "alpha.toml"), "utf8")).toBe(file);
    expect(await h.pids("alpha")).toEqual(before);
    expect((await h.tenant("b")).state).toBe("running");
    h.writeTenant("alpha", tenant("alpha", 0));
    expect(await h.ok({ cmd: "reload" })).toMatchObject({ unchanged: ["alpha", "b"], rejected: [] });
  });
});

describe("concurrent control operations run a tenant once", () => {
  const h = new Harness({ tenants: { alpha: tenant("alpha", 0) } });
  const mount = join(h.dir, "mnt", "gamma");
  /** gamma on the last core, its data also mounted through FUSE (fuse-legacy in a process of its own). */
  const gamma = (memory = "384MiB") =>
    tenant("gamma", LAST_CPU, fuse ? `[[mounts]]\npath = "${mount}"\nsource = "data"\nlegacy = true\n` : "").replace('memory = "384MiB"', `memory = "${memory}"`);
  beforeAll(async () => {
    h.writeTenant("gamma", gamma());
    await h.start(["alpha", "gamma"]);
  }, 60_000);
  afterAll(async () => {
    // A stacked mount (the defect under test) outlives its processes: detach it before the directory goes.
    for (let tries = 0; fuse && tries < 8 && mountsAt(mount) > 0; tries++) Bun.spawnSync(["umount", "-l", mount]);
    await h.stop();
  }, 60_000);

  /** Exactly the processes `status` shows run for `name`, and at most one FUSE mount sits on gamma's mount point. */
  async function expectOnce(name: string): Promise<number[]> {
    const t = await h.tenant(name);
    if (t.state === "running") await waitFor(`${name}'s services running`, async () => (await h.tenant(name)).services.every((s) => s.state === "running"));
    const shown = await statusPids(h, name);
    expect(instancePids(h, name)).toEqual(shown);
    if (fuse && name === "gamma") expect(mountsAt(mount)).toBe(shown.length > 0 ? 1 : 0);
    return shown;
  }

  test("four reloads at once restart a changed tenant and start a new one once: one set of processes each, one mount; stop-tenant leaves none", async () => {
    const before = await statusPids(h, "gamma");
    h.writeTenant("gamma", gamma("320MiB"));
    h.writeTenant("epsilon", tenant("epsilon", 0));
    const replies = await allAtOnce(h, Array.from({ length: 4 }, () => ({ cmd: "reload" })));
    const summaries = replies.map((r) => (r.ok ? (r.result as ReloadSummary) : r.error));
    expect(summaries.filter((s) => "restarted" in s && s.restarted.includes("gamma") && s.started.includes("epsilon"))).toHaveLength(1);
    expect(summaries.filter((s) => "unchanged" in s && s.unchanged.join() === "alpha,epsilon,gamma")).toHaveLength(3);
    const pids = await expectOnce("gamma");
    expect(pids).toHaveLength(fuse ? 2 : 1);
    for (const pid of before) expect(pids).not.toContain(pid);
    expect((await h.tenant("gamma")).memoryBytes).toBe(320 * 1024 ** 2);
    if (fuse) statSync(mount);
    expect(await expectOnce("epsilon")).toHaveLength(1);
    await h.ok({ cmd: "stop-tenant", tenant: "gamma" });
    expect(instancePids(h, "gamma")).toEqual([]);
    if (fuse) await waitFor("gamma's mount gone", () => mountsAt(mount) === 0);
  });

  test("start-tenant, stop-tenant and fault at once: one set of processes at the end; a last stop-tenant leaves none", async () => {
    const start = { cmd: "start-tenant", tenant: "gamma" };
    const stop = { cmd: "stop-tenant", tenant: "gamma" };
    const kill = { cmd: "fault", kind: "kill", tenant: "gamma", service: "union" };
    const replies = await allAtOnce(h, [start, start, start, kill, stop, start, start, { cmd: "reload" }, start]);
    for (const reply of replies) if (!reply.ok) expect(["EBUSY"]).toContain(reply.error.code);
    // One start-tenant finds gamma stopped and starts it; the others find it running (EBUSY), except one after the stop.
    const started = replies.filter((r, i) => r.ok && [0, 1, 2, 5, 6, 8].includes(i)).length;
    expect(started).toBeGreaterThanOrEqual(1);
    expect(started).toBeLessThanOrEqual(2);
    await expectOnce("gamma");
    await h.ok({ cmd: "stop-tenant", tenant: "gamma" });
    expect(instancePids(h, "gamma")).toEqual([]);
    if (fuse) await waitFor("gamma's mount gone", () => mountsAt(mount) === 0);
  });
});

describe("shutdown racing control operations", () => {
  test("a request after shutdown is refused with ESHUTDOWN; reloads and start-tenant racing it leave nothing running", async () => {
    const h = new Harness({ tenants: { alpha: tenant("alpha", 0) } });
    try {
      await h.start(["alpha"]);
      h.writeTenant("delta", tenant("delta", LAST_CPU));
      const racing = allAtOnce(h, [{ cmd: "reload" }, { cmd: "start-tenant", tenant: "delta" }, { cmd: "reload" }]).catch((error: Error) => error);
      const [shutdown, after] = await twoOnOneConnection(h.socket, { cmd: "shutdown" }, { cmd: "reload" });
      expect(shutdown).toMatchObject({ ok: true });
      expect(after).toMatchObject({ ok: false, error: { code: "ESHUTDOWN" } });
      expect(await h.proc!.exited).toBe(0);
      const raced = await racing;
      // Each racing request ran before the shutdown, or was refused, or its connection closed as the supervisor exited.
      if (Array.isArray(raced)) for (const r of raced) if (!r.ok) expect(["ESHUTDOWN", "EBUSY", "EINVAL"]).toContain(r.error.code);
      expect(instancePids(h)).toEqual([]);
      expect(h.leftovers()).toEqual([]);
    } finally {
      await h.stop();
    }
  });
});

/** Sends two requests on one connection, back to back, and returns both replies. */
async function twoOnOneConnection(path: string, first: object, second: object): Promise<Reply[]> {
  let buffered = "";
  let done: (lines: string[]) => void = () => {};
  const lines = new Promise<string[]>((resolve) => (done = resolve));
  const socket = await Bun.connect({
    unix: path,
    socket: {
      data(_socket, chunk) {
        buffered += chunk.toString();
        const complete = buffered.split("\n").filter((line) => line !== "");
        if (buffered.endsWith("\n") && complete.length >= 2) done(complete);
      },
      close() {
        done(buffered.split("\n").filter((line) => line !== ""));
      },
    },
  });
  socket.write(`${JSON.stringify(first)}\n${JSON.stringify(second)}\n`);
  const replies = (await lines).map((line) => JSON.parse(line) as Reply);
  socket.end();
  return replies;
}
