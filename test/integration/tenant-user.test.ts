/** Tenants running as their own users: each tenant's region, sockets and files are closed to the other tenant's processes. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, constants, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Harness, LAST_CPU, tenantToml } from "./harness.ts";

setDefaultTimeout(30_000);

const ALPHA_UID = 52001;
const BETA_UID = 52002;
const canSwitchUser = process.getuid?.() === 0 && Bun.which("setpriv") !== null;

/** Runs `script` (TypeScript source) as `uid`; returns its stdout (trimmed) and exit code. */
async function runAs(uid: number, script: string): Promise<{ code: number; out: string; err: string }> {
  const dir = mkdtempSync(join(tmpdir(), "danaus-probe-"));
  chmodSync(dir, 0o755);
  const file = join(dir, "probe.ts");
  writeFileSync(file, script, { mode: 0o644 });
  const proc = Bun.spawn(["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--", process.execPath, file], { stdio: ["ignore", "pipe", "pipe"] });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  rmSync(dir, { recursive: true, force: true });
  return { code, out: out.trim(), err };
}

describe.if(canSwitchUser)("tenants with their own users", () => {
  const h = new Harness({
    tenants: {
      alpha: tenantToml("alpha", 0, "", `uid = ${ALPHA_UID}`),
      beta: tenantToml("beta", LAST_CPU, "", `uid = ${BETA_UID}`),
    },
  });
  const ROOT = join(import.meta.dir, "../..");
  beforeAll(() => h.start(), 30_000);
  afterAll(() => h.stop(), 30_000);

  const region = (tenant: string) => join("/dev/shm", readdirSync("/dev/shm").find((n) => n === `danaus.${h.instance}.${tenant}.region`)!);
  const socket = (tenant: string) => join(h.dir, "state", "run", tenant, "router.sock");

  test("services run as the tenant's uid and own its region and socket, mode 0600", async () => {
    for (const [tenant, uid] of [["alpha", ALPHA_UID], ["beta", BETA_UID]] as const) {
      for (const pid of Object.values(await h.pids(tenant))) {
        const status = await Bun.file(`/proc/${pid}/status`).text();
        expect(/^Uid:\s+(\d+)/m.exec(status)![1]).toBe(String(uid));
      }
      for (const path of [region(tenant), socket(tenant)]) {
        const st = statSync(path);
        expect(st.uid).toBe(uid);
        expect(st.mode & 0o777).toBe(0o600);
      }
    }
  });

  test("beta's user can neither map alpha's region nor connect to alpha's service; it reaches its own", async () => {
    const probe = `
      import { openSync } from "node:fs";
      import { DanausClient } from "${ROOT}/shims/ts/index.ts";
      const outcome = (f) => { try { f(); return "ok"; } catch (e) { return e.code; } };
      console.log(JSON.stringify({
        region: outcome(() => openSync(${JSON.stringify(region("alpha"))}, "r+")),
        connect: outcome(() => DanausClient.connect({ socket: ${JSON.stringify(socket("alpha"))} })),
        own: outcome(() => DanausClient.connect({ socket: ${JSON.stringify(socket("beta"))} }).mounts()),
      }));`;
    const { code, out, err } = await runAs(BETA_UID, probe);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ region: "EACCES", connect: "EACCES", own: "ok" });
  });

  test("alpha's user does I/O through its own service, and the file belongs to alpha's uid", async () => {
    const probe = `
      import { DanausClient } from "${ROOT}/shims/ts/index.ts";
      const c = DanausClient.connect({ socket: ${JSON.stringify(socket("alpha"))} });
      const fd = c.open("/mnt/test/alpha/mine", 0o102, 0o600);
      c.write(fd, "alpha data");
      c.close(fd);
      console.log(c.stat("/mnt/test/alpha/mine").st_uid);`;
    const { code, out } = await runAs(ALPHA_UID, probe);
    expect(code).toBe(0);
    expect(out).toBe(String(ALPHA_UID));
    expect(statSync(join(h.dir, "state", "backends", "alpha", "data", "mine")).uid).toBe(ALPHA_UID);
  });

  test("alpha's service, running as alpha's user, makes no device (EPERM, as mknod(2) as that user); a FIFO it makes", async () => {
    const probe = `
      import { constants } from "node:fs";
      import { DanausClient } from "${ROOT}/shims/ts/index.ts";
      process.umask(0o027);
      const c = DanausClient.connect({ socket: ${JSON.stringify(socket("alpha"))} });
      const outcome = (f) => { try { f(); return "ok"; } catch (e) { return e.code; } };
      console.log(JSON.stringify({
        chr: outcome(() => c.mknod("/mnt/test/alpha/null", constants.S_IFCHR | 0o666, 259)),
        blk: outcome(() => c.mknod("/mnt/test/alpha/disk", constants.S_IFBLK | 0o666, 0x700)),
        fifo: outcome(() => c.mknod("/mnt/test/alpha/pipe", constants.S_IFIFO | 0o666)),
      }));`;
    const { code, out, err } = await runAs(ALPHA_UID, probe);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ chr: "EPERM", blk: "EPERM", fifo: "ok" });
    const data = join(h.dir, "state", "backends", "alpha", "data");
    expect(readdirSync(data).filter((name) => name !== "mine")).toEqual(["pipe"]);
    // The client took its program's umask (027) off; the service, none.
    expect(statSync(join(data, "pipe")).mode).toBe(constants.S_IFIFO | 0o640);
  });
});

if (!canSwitchUser) {
  test("tenant users (skipped)", () => {
    console.warn("skipped: needs root and setpriv to run tenants as their own users");
  });
}
