/** Restart strategies and types, process topology, reload, start-tenant and stop-tenant, with real processes. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Harness, LAST_CPU, tenantToml, waitFor } from "./harness.ts";

// Real processes start and stop here; a slow shared machine needs more than the default 5 s.
setDefaultTimeout(30_000);

/** Waits until every service of `tenant` runs again after a fault; returns its pids. */
async function settled(h: Harness, tenant: string, changed: (pids: Record<string, number | null>) => boolean) {
  return waitFor(`${tenant} settled`, async () => {
    const t = await h.tenant(tenant);
    const pids = Object.fromEntries(t.services.map((s) => [s.name, s.pid]));
    return t.services.every((s) => s.state === "running") && changed(pids) ? pids : null;
  });
}

describe("restart strategies", () => {
  const h = new Harness({
    tenants: {
      alpha: tenantToml("alpha", 0, `[restart]\nstrategy = "one_for_all"\n`),
      beta: tenantToml("beta", LAST_CPU, `[restart]\nstrategy = "rest_for_one"\n`),
    },
  });
  beforeAll(() => h.start(), 30_000);
  afterAll(() => h.stop(), 30_000);

  test("one_for_all restarts every process of the tenant", async () => {
    const before = await h.pids("alpha");
    const betaBefore = await h.pids("beta");
    await h.ok({ cmd: "fault", kind: "kill", tenant: "alpha", service: "union" });
    const after = await settled(h, "alpha", (p) => Object.keys(before).every((s) => p[s] !== before[s]));
    for (const service of Object.keys(before)) expect(after[service]).not.toBe(before[service]!);
    expect(await h.pids("beta")).toEqual(betaBefore);
  });

  test("rest_for_one restarts the failed process and those started after it", async () => {
    const before = await h.pids("beta");
    await h.ok({ cmd: "fault", kind: "kill", tenant: "beta", service: "union" });
    const after = await settled(h, "beta", (p) => p.union !== before.union && p["ipc-router"] !== before["ipc-router"]);
    expect(after["client-cache"]).toBe(before["client-cache"]!);
    const beta = await h.tenant("beta");
    expect(beta.services.find((s) => s.name === "ipc-router")!.lastExit).toBe("shutdown");
  });
});

describe("restart types and topology", () => {
  const h = new Harness({
    tenants: {
      alpha: tenantToml("alpha", 0, `[restart.services]\nunion = "transient"\nipc-router = "temporary"\n`),
      beta: tenantToml("beta", LAST_CPU, "", `topology = [["client-cache", "union", "ipc-router"]]`),
    },
  });
  beforeAll(() => h.start(), 30_000);
  afterAll(() => h.stop(), 30_000);

  test("transient: restarted after a crash, not after a clean exit", async () => {
    const before = await h.pids("alpha");
    await h.ok({ cmd: "fault", kind: "exit", tenant: "alpha", service: "union", code: 9 });
    await settled(h, "alpha", (p) => p.union !== before.union);
    await h.ok({ cmd: "fault", kind: "exit", tenant: "alpha", service: "union", code: 0 });
    const union = await waitFor("union stopped", async () => {
      const s = (await h.tenant("alpha")).services.find((x) => x.name === "union")!;
      return s.lastExit === "normal" && s.pid === null ? s : null;
    });
    expect(union.state).toBe("stopped");
    expect((await h.tenant("alpha")).state).toBe("running");
  });

  test("temporary: never restarted", async () => {
    await h.ok({ cmd: "fault", kind: "kill", tenant: "alpha", service: "ipc-router" });
    const router = await waitFor("router gone", async () => {
      const s = (await h.tenant("alpha")).services.find((x) => x.name === "ipc-router")!;
      return s.pid === null && s.lastExit === "signal(SIGKILL)" ? s : null;
    });
    expect(router.restarts).toBe(0);
  });

  test("services of one process group share a pid and are restarted together", async () => {
    const beta = await h.tenant("beta");
    const pids = new Set(beta.services.map((s) => s.pid));
    expect(pids.size).toBe(1);
    expect(beta.services.every((s) => s.process === "client-cache+union+ipc-router")).toBe(true);
    const [before] = [...pids];
    await h.ok({ cmd: "fault", kind: "kill", tenant: "beta", service: "ipc-router" });
    const after = await settled(h, "beta", (p) => p.union !== before);
    expect(new Set(Object.values(after)).size).toBe(1);
  });
});

describe("reload, start-tenant and stop-tenant", () => {
  const h = new Harness();
  beforeAll(() => h.start(), 30_000);
  afterAll(() => h.stop(), 30_000);

  test("reload restarts only the changed tenant", async () => {
    const alpha = await h.pids("alpha");
    const beta = await h.pids("beta");
    h.writeTenant("beta", tenantToml("beta", LAST_CPU).replace('memory = "384MiB"', 'memory = "320MiB"'));
    const summary = await h.ok({ cmd: "reload" });
    expect(summary).toMatchObject({ restarted: ["beta"], unchanged: ["alpha"], started: [], stopped: [] });
    expect(await h.pids("alpha")).toEqual(alpha);
    const after = await h.pids("beta");
    expect(after.union).not.toBe(beta.union!);
    expect((await h.tenant("beta")).memoryBytes).toBe(320 * 1024 * 1024);
  });

  test("reload starts a new tenant and stops a removed one", async () => {
    const alpha = await h.pids("alpha");
    h.removeTenant("beta");
    h.writeTenant("gamma", tenantToml("gamma", LAST_CPU));
    const summary = await h.ok({ cmd: "reload" });
    expect(summary).toMatchObject({ started: ["gamma"], stopped: ["beta"], unchanged: ["alpha"] });
    const names = (await h.status()).map((t) => t.name);
    expect(names).toEqual(["alpha", "gamma"]);
    expect((await h.tenant("gamma")).state).toBe("running");
    expect(await h.pids("alpha")).toEqual(alpha);
  });

  test("reload with an invalid file keeps the running version and reports it", async () => {
    const gamma = await h.pids("gamma");
    h.writeTenant("gamma", tenantToml("gamma", LAST_CPU).replace('kind = "local"', 'kind = "nfs"'));
    const summary = (await h.ok({ cmd: "reload" })) as { rejected: { file: string; errors: string[] }[] };
    expect(summary.rejected[0]!.file).toContain("gamma.toml");
    expect(summary.rejected[0]!.errors.join(" ")).toContain("backend");
    expect(await h.pids("gamma")).toEqual(gamma);
    expect((await h.tenant("gamma")).errors.join(" ")).toContain("not reloaded");
    h.writeTenant("gamma", tenantToml("gamma", LAST_CPU));
  });

  test("stop-tenant stops one tenant and start-tenant brings it back", async () => {
    const alpha = await h.pids("alpha");
    const stopped = (await h.ok({ cmd: "stop-tenant", tenant: "gamma" })) as { state: string };
    expect(stopped.state).toBe("stopped");
    expect((await h.tenant("gamma")).services.every((s) => s.pid === null)).toBe(true);
    const started = (await h.ok({ cmd: "start-tenant", tenant: "gamma" })) as { state: string };
    expect(started.state).toBe("running");
    const again = await h.ctl({ cmd: "start-tenant", tenant: "gamma" });
    expect(again.ok).toBe(false);
    expect(await h.pids("alpha")).toEqual(alpha);
  });
});
