/** The supervisor end to end: boot, pools, status, CLI, control socket, shutdown and the supervisor's own death. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { MAX_REQUEST_BYTES } from "../../kernel/control/index.ts";
import { detectPoolSupport } from "../../kernel/pool/index.ts";
import { alive, Harness, LAST_CPU, tenantToml, waitFor } from "./harness.ts";

// Real processes start and stop here; a slow shared machine needs more than the default 5 s.
setDefaultTimeout(30_000);

const pinned = detectPoolSupport().kind !== "unavailable";

function cpusAllowed(pid: number): string {
  return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]!;
}

describe("a booted supervisor", () => {
  const h = new Harness({
    tenants: {
      alpha: tenantToml("alpha", 0, `[[mounts]]\npath = "/mnt/test/alpha-root"\nupper = "c1/upper"\nlowers = ["images/base"]\nlegacy = true\n`),
      beta: tenantToml("beta", LAST_CPU),
      broken: `name = "broken"\ncpus = [0]\nmemory = "lots"\n[backend]\nkind = "local"\nroot = "x"\n`,
    },
  });
  beforeAll(() => h.start(), 30_000);
  afterAll(() => h.stop(), 30_000);

  test("status --json lists each tenant with name, state, cpus and services with name, pid, state, restarts", async () => {
    const { code, stdout } = await h.cli("status", "--json");
    expect(code).toBe(0);
    const tenants = JSON.parse(stdout) as { name: string; state: string; cpus: number[]; services: { name: string; pid: number; state: string; restarts: number }[] }[];
    const alpha = tenants.find((t) => t.name === "alpha")!;
    expect(alpha).toMatchObject({ state: "running", cpus: [0] });
    // fuse-legacy runs because one of alpha's mounts has legacy = true; beta has none.
    expect(alpha.services.map((s) => s.name)).toEqual(["client-cache", "union", "ipc-router", "fuse-legacy"]);
    expect((tenants.find((t) => t.name === "beta")!).services.map((s) => s.name)).toEqual(["client-cache", "union", "ipc-router"]);
    for (const s of alpha.services) {
      expect(s.state).toBe("running");
      expect(s.restarts).toBe(0);
      expect(alive(s.pid)).toBe(true);
    }
  });

  test("an invalid tenant file is reported with file, field and value, and not started; the others run", async () => {
    const broken = await h.tenant("broken");
    expect(broken.state).toBe("invalid");
    expect(broken.services).toEqual([]);
    expect(broken.errors.join("\n")).toContain("broken.toml");
    expect(broken.errors.join("\n")).toContain("memory");
    expect(broken.errors.join("\n")).toContain("lots");
    expect(h.logs.some((l) => l.includes("tenant not started: invalid config") && l.includes("broken.toml"))).toBe(true);
  });

  test("status prints a table with tenant, service, pid, state, cpus, uptime, restarts and last exit", async () => {
    const { code, stdout } = await h.cli("status");
    expect(code).toBe(0);
    const [header, ...rows] = stdout.split("\n");
    expect(header!.split(/\s{2,}/)).toEqual(["TENANT", "SERVICE", "PID", "STATE", "CPUS", "UPTIME", "RESTARTS", "LAST EXIT"]);
    const betaUnion = rows.find((r) => r.startsWith("beta") && r.includes(" union "))!;
    expect(betaUnion).toContain(String((await h.pids("beta")).union));
    expect(betaUnion).toContain("running");
  });

  test("every service runs on its tenant's cores, inside its tenant's cgroup, from its first instruction", async () => {
    if (!pinned) {
      console.warn(`skipped: pools unavailable here (${JSON.stringify(detectPoolSupport())})`);
      return;
    }
    for (const [tenant, cpu] of [["alpha", "0"], ["beta", String(LAST_CPU)]] as const) {
      for (const pid of Object.values(await h.pids(tenant))) {
        expect(cpusAllowed(pid!)).toBe(cpu);
        expect(readFileSync(`/proc/${pid}/cgroup`, "utf8")).toContain(`cpuset:/danaus.${h.instance}/${tenant}`);
      }
      expect((await h.tenant(tenant)).pool).toBe("cgroup-v1");
    }
  });

  test("the control socket is mode 0600", () => {
    expect(statSync(h.socket).mode & 0o777).toBe(0o600);
  });

  test("malformed, hostile and oversized requests get an error reply and the supervisor keeps serving", async () => {
    const raw = async (payload: string): Promise<string> => {
      let received = "";
      const socket = await Bun.connect({ unix: h.socket, socket: { data(_s, chunk) { received += chunk.toString(); } } });
      socket.write(payload);
      await waitFor("a reply", () => received.includes("\n"), 5000);
      socket.end();
      return received;
    };
    expect(JSON.parse(await raw("this is not json\n"))).toMatchObject({ ok: false, error: { code: "EINVAL" } });
    expect(JSON.parse(await raw('{"cmd":"format-disk"}\n'))).toMatchObject({ ok: false, error: { code: "EINVAL" } });
    expect(JSON.parse(await raw('{"cmd":"fault","kind":"kill","tenant":"beta","service":"union","extra":1}\n'))).toMatchObject({ ok: false });
    expect(JSON.parse(await raw('[1,2,3]\n'))).toMatchObject({ ok: false, error: { code: "EINVAL" } });
    expect(JSON.parse(await raw("x".repeat(MAX_REQUEST_BYTES + 10)))).toMatchObject({ ok: false, error: { code: "E2BIG" } });
    // Two requests in one write are both answered, in order.
    const two = await raw('{"id":1,"cmd":"status"}\n{"id":2,"cmd":"nope"}\n');
    await waitFor("second reply", () => two.split("\n").length >= 2, 5000);
    expect((await h.status()).find((t) => t.name === "alpha")!.state).toBe("running");
  });

  test("the CLI reports usage errors and unknown targets clearly", async () => {
    const noKind = await h.cli("fault", "--tenant", "beta", "--service", "union");
    expect(noKind.code).toBe(2);
    expect(noKind.stderr).toContain("fault needs a kind");
    const noTenant = await h.cli("fault", "kill", "--tenant", "gamma", "--service", "union");
    expect(noTenant.code).toBe(1);
    expect(noTenant.stderr).toContain('no tenant "gamma"');
  });
});

describe("stopping", () => {
  test("shutdown stops tenants in reverse start order and leaves no process, cgroup, shm file or socket", async () => {
    const h = new Harness();
    try {
      await h.start();
      const pids = [...Object.values(await h.pids("alpha")), ...Object.values(await h.pids("beta"))] as number[];
      if (pinned) expect(h.leftovers().length).toBeGreaterThan(0);
      const { code, stdout } = await h.cli("shutdown");
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual({ stopping: ["beta", "alpha"] });
      expect(await h.proc!.exited).toBe(0);
      for (const pid of pids) expect(alive(pid)).toBe(false);
      expect(h.leftovers()).toEqual([]);
      expect(existsSync(h.socket)).toBe(false);
      const stops = h.logs.filter((l) => l.includes('"tenant stopped"')).map((l) => JSON.parse(l).tenant);
      expect(stops).toEqual(["beta", "alpha"]);
    } finally {
      await h.stop();
    }
  });

  test("SIGINT (Ctrl-C) stops everything the same way", async () => {
    const h = new Harness();
    try {
      await h.start();
      const pids = Object.values(await h.pids("alpha")) as number[];
      h.proc!.kill("SIGINT");
      expect(await h.proc!.exited).toBe(0);
      for (const pid of pids) expect(alive(pid)).toBe(false);
      expect(h.leftovers()).toEqual([]);
    } finally {
      await h.stop();
    }
  });

  test("if the supervisor itself dies, its services exit too (even a hung one): no orphans", async () => {
    const h = new Harness();
    try {
      await h.start();
      await h.ok({ cmd: "fault", kind: "hang", tenant: "beta", service: "union" });
      const pids = [...Object.values(await h.pids("alpha")), ...Object.values(await h.pids("beta"))] as number[];
      h.proc!.kill("SIGKILL");
      await h.proc!.exited;
      await waitFor("every service gone", () => pids.every((pid) => !alive(pid)), 5000);
    } finally {
      await h.stop();
    }
  });

  test("a second supervisor on the same control socket refuses to start and disturbs nothing", async () => {
    const h = new Harness();
    try {
      await h.start();
      const before = await h.pids("alpha");
      const second = Bun.spawn([process.execPath, join(import.meta.dir, "../../kernel/main.ts"), "--config", h.hostFile], { stdio: ["ignore", "ignore", "pipe"] });
      expect(await second.exited).toBe(1);
      expect(await new Response(second.stderr).text()).toContain("in use");
      expect(await h.pids("alpha")).toEqual(before);
    } finally {
      await h.stop();
    }
  });
});
