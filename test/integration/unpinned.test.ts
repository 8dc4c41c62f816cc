/** Without cgroups (here: not root) the supervisor says so once, shows it in status, and runs every tenant unpinned. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Harness, waitFor } from "./harness.ts";

setDefaultTimeout(30_000);

const NOBODY = 65534;
const canSwitchUser = process.getuid?.() === 0 && Bun.which("setpriv") !== null;

describe.if(canSwitchUser)("a supervisor that cannot create pools", () => {
  const h = new Harness({ asUser: NOBODY });
  beforeAll(() => h.start(), 30_000);
  afterAll(() => h.stop(), 30_000);

  test("runs every tenant unpinned and reports why, once, in the log and in status", async () => {
    for (const name of ["alpha", "beta"]) {
      const tenant = await h.tenant(name);
      expect(tenant.state).toBe("running");
      expect(tenant.pool).toMatch(/^unpinned \(.*root/);
    }
    const warnings = h.logs.filter((l) => l.includes("pools unavailable"));
    expect(warnings.length).toBe(1);
    expect(h.leftovers().filter((p) => p.startsWith("/sys/fs/cgroup"))).toEqual([]);
  });

  test("faults still reach one service of one tenant", async () => {
    const alpha = await h.pids("alpha");
    const beta = await h.pids("beta");
    await h.ok({ cmd: "fault", kind: "kill", tenant: "beta", service: "union" });
    await waitFor("beta union back", async () => {
      const pids = await h.pids("beta");
      return pids.union !== null && pids.union !== beta.union;
    });
    expect(await h.pids("alpha")).toEqual(alpha);
  });
});

if (!canSwitchUser) {
  test("unpinned supervisor (skipped)", () => {
    console.warn("skipped: needs root and setpriv to start the supervisor as an unprivileged user");
  });
}
