/**
 * The preload library's attribute cache (shims/preload/attrs.c) against the tenant's mutation generation: a stat
 * answered from the cache is never older than the last change made through any client of the tenant (another preload
 * process, a TypeScript ring client, the tenant's FUSE mount), however long the tenant's attribute timeout; a change
 * made behind the service (in the backend directory) shows once the timeout has passed, at once with a timeout of 0;
 * another tenant's changes leave the generation alone. Each preloaded process is conformance-driver.c under
 * `danaus run` (driver-fs.ts), so every call is a libc call through the library.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, constants, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isMountPoint } from "../../../kernel/sys/mounts.ts";
import { ERRNO, FsError, S_IFMT, type Stat } from "../../../kernel/ipc/protocol/index.ts";
import { Region } from "../../../kernel/ipc/ring/index.ts";
import { DanausClient } from "../../../shims/ts/client.ts";
import { fuseTestsRun } from "../data-path/legacy-fixture.ts";
import { Harness, LAST_CPU, tenantToml, waitFor } from "../harness.ts";
import { DriverFs } from "./driver-fs.ts";

setDefaultTimeout(120_000);
const ROOT = resolve(import.meta.dir, "../../..");
/** Tenants by attribute timeout: ten minutes (a stale answer would outlive the test), 200 ms, none. */
const LONG = "long";
const SHORT = "short";
const NONE = "none";
/** Ten minutes too, with fuse-legacy in the data-path process (it serves its FUSE mount without the ring). */
const IN_PROCESS = "inproc";
const mountOf = (tenant: string) => `/mnt/test/${tenant}`;
const withFuse = fuseTestsRun("attribute-cache.test.ts");
let h: Harness;
let scratch: string;
let driver: string;
/** The FUSE mount of each tenant that has one. */
const legacyOf: Record<string, string> = {};
let client: DanausClient | undefined;
const drivers: DriverFs[] = [];

beforeAll(async () => {
  const build = Bun.spawnSync(["bash", join(ROOT, "shims/preload/build.sh")], { stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`building the preload library failed: ${build.stderr.toString()}`);
  scratch = mkdtempSync(join(tmpdir(), "danaus-preload-attrs-"));
  legacyOf[LONG] = join(scratch, "fuse");
  legacyOf[IN_PROCESS] = join(scratch, "fuse-in-process");
  driver = join(scratch, "conformance-driver");
  const built = Bun.spawnSync(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", driver, join(import.meta.dir, "conformance-driver.c")], { stderr: "pipe" });
  if (built.exitCode !== 0) throw new Error(`building the driver failed: ${built.stderr.toString()}`);
  const fuse = (ms: number) => `[fuse]\nattrTimeoutMs = ${ms}\nentryTimeoutMs = ${ms}\nnegativeTimeoutMs = ${ms}\n`;
  const legacyMount = (tenant: string) => `[[mounts]]\npath = "${legacyOf[tenant]}"\nsource = "data"\nlegacy = true\n`;
  const inProcess = `topology = [["client-cache", "union", "ipc-router", "fuse-legacy"]]`;
  h = new Harness({
    tenants: {
      [LONG]: tenantToml(LONG, 0, `${withFuse ? legacyMount(LONG) : ""}${fuse(600_000)}`),
      [SHORT]: tenantToml(SHORT, LAST_CPU, fuse(200)),
      [NONE]: tenantToml(NONE, LAST_CPU, fuse(0)),
      ...(withFuse ? { [IN_PROCESS]: tenantToml(IN_PROCESS, 0, `${legacyMount(IN_PROCESS)}${fuse(600_000)}`, inProcess) } : {}),
    },
  });
  await h.start([LONG, SHORT, NONE, ...(withFuse ? [IN_PROCESS] : [])]);
  if (withFuse) for (const mount of [legacyOf[LONG]!, legacyOf[IN_PROCESS]!]) await waitFor(`the FUSE mount ${mount}`, () => isMountPoint(mount), 30_000);
  client = DanausClient.connect({ socket: join(h.dir, "state/run", LONG, "router.sock") });
}, 120_000);
afterAll(async () => {
  for (const d of drivers) await d.stop();
  client?.disconnect();
  await h?.stop();
  for (const mount of Object.values(legacyOf)) if (isMountPoint(mount)) Bun.spawnSync(["umount", "-l", mount]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, 60_000);

/** A new preloaded process of `tenant` whose paths are relative to its mount's root. */
function preloaded(tenant: string): DriverFs {
  const argv = [process.execPath, join(ROOT, "kernel/cli/main.ts"), "run", "--tenant", tenant, "--config", h.hostFile, "--", driver];
  const fs = new DriverFs(mountOf(tenant), argv, { ...process.env }, scratch);
  drivers.push(fs);
  return fs;
}

/** The tenant's backend directory behind its mount. */
const backing = (tenant: string) => join(h.dir, "state/backends", tenant, "data");

/** The errno `call` failed with, or 0. */
function errnoOf(call: () => unknown): number {
  try {
    call();
    return 0;
  } catch (error) {
    if (error instanceof FsError) return error.errno;
    throw error;
  }
}

/** Writes `text` into a new file `path` through `fs` (a FileSystem: a preloaded process, the ring client). */
function create(fs: DriverFs | DanausClient, path: string, text: string): void {
  const fd = fs.open(path, constants.O_CREAT | constants.O_WRONLY | constants.O_TRUNC, 0o644);
  fs.write(fd, new TextEncoder().encode(text));
  fs.close(fd);
}

const mode = (st: Stat) => st.st_mode & ~S_IFMT;

/** The tenant's region (its header's `mutations` word is the generation). */
const region = (tenant: string) => Region.open(`/dev/shm/danaus.${h.instance}.${tenant}.region`);

describe("a tenant whose attribute timeout is ten minutes", () => {
  test("a change made by another preloaded process shows in the very next stat: size, mode, absence, rename", () => {
    const a = preloaded(LONG);
    const b = preloaded(LONG);
    create(b, "f", "abc");
    expect(a.stat("f").st_size).toBe(3);
    expect(a.lstat("f").st_size).toBe(3);
    expect(errnoOf(() => a.stat("g"))).toBe(ERRNO.ENOENT);
    // Asked twice: the second answer may come from the cache, and must still be right.
    expect(a.stat("f").st_size).toBe(3);

    const fd = b.open("f", constants.O_WRONLY, 0);
    b.pwrite(fd, new TextEncoder().encode("defgh"), 3);
    expect(a.stat("f").st_size).toBe(8);
    b.ftruncate(fd, 5);
    expect(a.stat("f").st_size).toBe(5);
    b.close(fd);

    b.chmod("f", 0o600);
    expect(mode(a.stat("f"))).toBe(0o600);
    b.utimens("f", { sec: 1_000_000, nsec: 0 }, { sec: 2_000_000, nsec: 0 }, 0);
    expect(a.stat("f").st_mtime_sec).toBe(2_000_000);

    b.rename("f", "g", 0);
    expect(errnoOf(() => a.stat("f"))).toBe(ERRNO.ENOENT);
    expect(a.stat("g").st_size).toBe(5);
    b.link("g", "h");
    expect(a.lstat("g").st_nlink).toBe(2);
    b.unlink("h");
    expect(a.lstat("g").st_nlink).toBe(1);
    b.unlink("g");
    expect(errnoOf(() => a.stat("g"))).toBe(ERRNO.ENOENT);

    b.mkdir("d", 0o755);
    expect(mode(a.stat("d"))).toBe(0o755);
    b.symlink("d", "s");
    expect(a.lstat("s").st_mode & S_IFMT).toBe(constants.S_IFLNK);
    b.unlink("s");
    b.rmdir("d");
    expect(errnoOf(() => a.lstat("s"))).toBe(ERRNO.ENOENT);
    expect(errnoOf(() => a.stat("d"))).toBe(ERRNO.ENOENT);
  });

  test("a change made by a TypeScript ring client of the tenant shows in the very next stat", () => {
    const a = preloaded(LONG);
    expect(errnoOf(() => a.stat("ring"))).toBe(ERRNO.ENOENT);
    create(client!, `${mountOf(LONG)}/ring`, "12345");
    expect(a.stat("ring").st_size).toBe(5);
    client!.chmod(`${mountOf(LONG)}/ring`, 0o640);
    expect(mode(a.stat("ring"))).toBe(0o640);
    client!.unlink(`${mountOf(LONG)}/ring`);
    expect(errnoOf(() => a.stat("ring"))).toBe(ERRNO.ENOENT);
  });

  test.skipIf(!withFuse).each([
    ["in its own process (through the ring)", LONG],
    ["in the data-path process (without the ring)", IN_PROCESS],
  ])("a change made through the tenant's FUSE mount, fuse-legacy %s, shows in the very next stat", (_where, tenant) => {
    const a = preloaded(tenant);
    const legacy = legacyOf[tenant]!;
    expect(errnoOf(() => a.stat("fuse"))).toBe(ERRNO.ENOENT);
    writeFileSync(join(legacy, "fuse"), "1234567");
    expect(a.stat("fuse").st_size).toBe(7);
    chmodSync(join(legacy, "fuse"), 0o604);
    expect(mode(a.stat("fuse"))).toBe(0o604);
    truncateSync(join(legacy, "fuse"), 2);
    expect(a.stat("fuse").st_size).toBe(2);
    rmSync(join(legacy, "fuse"));
    expect(errnoOf(() => a.stat("fuse"))).toBe(ERRNO.ENOENT);
  });

  test("an answer is kept: a change behind the service stays unseen by a process that asked before it, until a change inside the tenant", async () => {
    const a = preloaded(LONG);
    const b = preloaded(LONG);
    create(b, "behind", "ab");
    expect(a.stat("behind").st_size).toBe(2);
    truncateSync(join(backing(LONG), "behind"), 9);
    // The ring client, which keeps no attributes, sees the change once the service's own cache lets it through...
    await waitFor("the service to answer the new size", () => client!.stat(`${mountOf(LONG)}/behind`).st_size === 9);
    // ...while `a` answers from its own, whose answer is younger than ten minutes and no change was made since.
    expect(a.stat("behind").st_size).toBe(2);
    b.chmod("behind", 0o600);
    const now = a.stat("behind");
    expect({ size: now.st_size, mode: mode(now) }).toEqual({ size: 9, mode: 0o600 });
    b.unlink("behind");
  });
});

describe("changes behind the service", () => {
  test("with a 200 ms attribute timeout, a change in the backend directory shows once the timeout has passed", async () => {
    const a = preloaded(SHORT);
    create(a, "f", "abc");
    expect(a.stat("f").st_size).toBe(3);
    truncateSync(join(backing(SHORT), "f"), 11);
    await waitFor("the new size through the library", () => a.stat("f").st_size === 11, 10_000);
    chmodSync(join(backing(SHORT), "f"), 0o611);
    await waitFor("the new mode through the library", () => mode(a.stat("f")) === 0o611, 10_000);
    rmSync(join(backing(SHORT), "f"));
    await waitFor("the absence through the library", () => errnoOf(() => a.stat("f")) === ERRNO.ENOENT, 10_000);
  });

  test("with an attribute timeout of 0, a change in the backend directory shows in the very next stat", () => {
    const a = preloaded(NONE);
    create(a, "f", "abc");
    expect(a.stat("f").st_size).toBe(3);
    truncateSync(join(backing(NONE), "f"), 13);
    expect(a.stat("f").st_size).toBe(13);
    chmodSync(join(backing(NONE), "f"), 0o612);
    expect(mode(a.stat("f"))).toBe(0o612);
    rmSync(join(backing(NONE), "f"));
    expect(errnoOf(() => a.stat("f"))).toBe(ERRNO.ENOENT);
    writeFileSync(join(backing(NONE), "f"), "x");
    expect(a.stat("f").st_size).toBe(1);
  });
});

describe("isolation", () => {
  test("another tenant's changes leave a tenant's generation alone; its own move it", () => {
    const long = region(LONG);
    const short = region(SHORT);
    const before = { long: long.mutations(), short: short.mutations() };
    const b = preloaded(SHORT);
    create(b, "other", "x");
    b.chmod("other", 0o600);
    b.unlink("other");
    expect(long.mutations()).toBe(before.long);
    expect(short.mutations()).toBeGreaterThanOrEqual(before.short + 3);
    const a = preloaded(LONG);
    a.mkdir("mine", 0o700);
    a.rmdir("mine");
    expect(long.mutations()).toBeGreaterThanOrEqual(before.long + 2);
  });
});
