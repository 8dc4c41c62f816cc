/**
 * Cross-tenant isolation on the data path, with tenants alpha and beta under a real supervisor: alpha's region file
 * and router socket are 0600 and owned by the service's uid, so a process of another uid can neither map the region
 * nor register (EACCES); alpha's client sees only alpha's mounts, and no path it can spell — beta's mount points,
 * `..` climbing out of its mount, `..` and absolute or climbing symlinks sent to the service itself — reaches beta's
 * backend directory.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, constants, existsSync, lstatSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { FsError } from "../../../kernel/ipc/protocol/index.ts";
import { DanausClient } from "../../../shims/ts/client.ts";
import { killChildren, spawnChild } from "../../services/ipc-router/robustness/helpers.ts";
import { Harness, LAST_CPU, tenantToml } from "../harness.ts";

setDefaultTimeout(60_000);
const NOBODY = 65534;
const ALPHA = "/mnt/test/alpha";
const BETA = "/mnt/test/beta";
let h: Harness;
let alpha: DanausClient;
let beta: DanausClient;

const regionOf = (tenant: string) => `/dev/shm/danaus.${h.instance}.${tenant}.region`;
const socketOf = (tenant: string) => join(h.dir, "state/run", tenant, "router.sock");

beforeAll(async () => {
  h = new Harness({ tenants: { alpha: tenantToml("alpha", 0, "", ""), beta: tenantToml("beta", LAST_CPU, "", "") } });
  await h.start(["alpha", "beta"]);
  alpha = DanausClient.connect({ socket: socketOf("alpha") });
  beta = DanausClient.connect({ socket: socketOf("beta") });
  const fd = beta.open(`${BETA}/secret`, constants.O_CREAT | constants.O_WRONLY | constants.O_TRUNC, 0o600);
  beta.write(fd, "beta's secret");
  beta.close(fd);
}, 60_000);
afterAll(async () => {
  await killChildren();
  alpha?.disconnect();
  beta?.disconnect();
  await h?.stop();
}, 60_000);

/** The effective uid of a running process (second field of its Uid: line). */
function uidOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("Uid:"))!;
  return Number(line.split(/\s+/)[2]);
}

/** The FsError code `body` throws (fails if it does not throw an FsError). */
function codeOf(body: () => unknown): FsError {
  try {
    body();
  } catch (error) {
    expect(error).toBeInstanceOf(FsError);
    return error as FsError;
  }
  throw new Error("expected an FsError, the call succeeded");
}

describe("who can reach a tenant's region and socket", () => {
  test("the region file and the router socket are 0600, owned by the service's uid; the run directory is 0700", async () => {
    for (const tenant of ["alpha", "beta"]) {
      const uid = uidOf((await h.pids(tenant))["ipc-router"]!);
      const region = statSync(regionOf(tenant));
      expect(region.isFile()).toBe(true);
      expect({ mode: region.mode & 0o7777, uid: region.uid }).toEqual({ mode: 0o600, uid });
      const socket = lstatSync(socketOf(tenant));
      expect(socket.isSocket()).toBe(true);
      expect({ mode: socket.mode & 0o7777, uid: socket.uid }).toEqual({ mode: 0o600, uid });
      expect(statSync(join(h.dir, "state/run", tenant)).mode & 0o777).toBe(0o700);
    }
    expect(regionOf("alpha")).not.toBe(regionOf("beta"));
  });

  test("a process of another uid can neither open alpha's region nor connect to its socket (EACCES)", async () => {
    if (process.getuid!() !== 0) {
      console.log(`skipped: running as uid ${process.getuid!()}, not root, so a process of another uid cannot be started with setpriv`);
      return;
    }
    const probe = async (): Promise<Record<string, string>> => {
      const child = spawnChild(join(import.meta.dir, "foreign-uid-probe.ts"), { regions: [regionOf("alpha")], sockets: [socketOf("alpha")] }, "foreign uid probe",
        ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--"], { HOME: "/tmp" });
      const { uid, results } = await child.next<{ uid: number; results: Record<string, string> }>();
      expect(uid).toBe(NOBODY);
      return results;
    };
    const allRefused = (results: Record<string, string>) => Object.fromEntries(Object.keys(results).map((attempt) => [attempt, "EACCES"]));
    const first = await probe();
    expect(Object.keys(first)).toHaveLength(3);
    expect(first).toEqual(allRefused(first));

    // Open the directories on the way to the socket for search, so that only the socket's own mode decides.
    const dirs = [h.dir, join(h.dir, "state"), join(h.dir, "state/run"), join(h.dir, "state/run/alpha")];
    const modes = dirs.map((dir) => statSync(dir).mode & 0o7777);
    try {
      for (const dir of dirs) chmodSync(dir, 0o711);
      const second = await probe();
      expect(second).toEqual(allRefused(second));
    } finally {
      dirs.forEach((dir, i) => chmodSync(dir, modes[i]!));
    }
  });
});

describe("what alpha's client can address", () => {
  test("alpha's mount table holds only alpha's mount; beta's mount point is outside it (ENOENT with a clear message)", () => {
    expect(alpha.mounts().map((m) => m.path)).toEqual([ALPHA]);
    const error = codeOf(() => alpha.open(`${BETA}/secret`));
    expect(error.code).toBe("ENOENT");
    expect(error.message).toContain("not under any danaus mount of this tenant");
    expect(error.message).toContain(ALPHA);
    expect(codeOf(() => alpha.stat(BETA)).code).toBe("ENOENT");
  });

  test("`..` climbing out of alpha's mount normalises to a path outside every mount (ENOENT)", () => {
    for (const path of [
      `${ALPHA}/../beta/secret`,
      `${ALPHA}/../../beta/x`,
      `${ALPHA}/${"../".repeat(10)}etc/passwd`,
      `${ALPHA}//.././/../test/beta/secret`,
    ]) {
      const error = codeOf(() => alpha.open(path));
      expect([path, error.code]).toEqual([path, "ENOENT"]);
      expect(error.message).toContain("not under any danaus mount");
    }
  });

  test("paths sent to alpha's service without client-side normalisation stay inside alpha's backend", () => {
    const fs = alpha.fileSystem(ALPHA);
    const betaBackend = join(h.dir, "state/backends/beta/data");
    expect(readFileSync(join(betaBackend, "secret"), "utf8")).toBe("beta's secret");
    for (const path of ["../beta/data/secret", "../../beta/data/secret", `/${"../".repeat(12)}${betaBackend.slice(1)}/secret`, `/${"../".repeat(12)}etc/passwd`]) {
      expect([path, codeOf(() => fs.open(path, constants.O_RDONLY, 0)).code]).toEqual([path, "ENOENT"]);
    }
    // Symlinks made in alpha's mount pointing at beta's backend (absolute, or climbing) resolve inside alpha's root.
    alpha.symlink(join(betaBackend, "secret"), `${ALPHA}/absolute-escape`);
    alpha.symlink("../../beta/data/secret", `${ALPHA}/relative-escape`);
    for (const link of ["absolute-escape", "relative-escape"]) {
      expect([link, codeOf(() => alpha.open(`${ALPHA}/${link}`)).code]).toEqual([link, "ENOENT"]);
    }
    // Nothing of beta's changed, and nothing was created on beta's side.
    expect(readFileSync(join(betaBackend, "secret"), "utf8")).toBe("beta's secret");
    expect(readdirSync(betaBackend)).toEqual(["secret"]);
    expect(existsSync(join(h.dir, "state/backends/alpha/data/absolute-escape"))).toBe(true);
  });
});
