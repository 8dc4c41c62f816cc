/** @module test/integration/data-path/legacy-fixture — what the kernel-path integration tests share: start, stop, and the two-path checks. */
import { expect } from "bun:test";
import { afterAll, beforeAll } from "bun:test";
import { constants, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMountPoint } from "../../../kernel/sys/mounts.ts";
import { DanausClient } from "../../../shims/ts/client.ts";
import { mapShared } from "../../services/fuse-legacy/fixtures/mapping-reader.ts";
import { Harness, waitFor } from "../harness.ts";

/**
 * Whether the kernel-path tests of `file` can run (root and /dev/fuse). Without them the file says why and skips;
 * under CI=true, which has both, their absence is an error.
 */
export function fuseTestsRun(file: string): boolean {
  const ok = process.getuid?.() === 0 && existsSync("/dev/fuse");
  if (!ok) {
    if (process.env.CI === "true") throw new Error(`${file} needs root and /dev/fuse, and CI has both`);
    process.stderr.write(`SKIP ${file}: FUSE mounts need root and /dev/fuse\n`);
  }
  return ok;
}

/** Tenant alpha's file: core 0, 384 MiB, the local backend, one direct legacy mount of `data` at `mount`. */
export function directLegacyTenant(mount: string): string {
  return [`name = "alpha"`, `cpus = [0]`, `memory = "384MiB"`, `shareCpus = true`, `[backend]`, `kind = "local"`, `root = "backends/alpha"`,
    `[[mounts]]`, `path = "${mount}"`, `source = "data"`, `legacy = true`].join("\n");
}

/** A running supervisor with tenant alpha's legacy mount up, and a shared-memory client of alpha. */
export interface LegacySetup {
  readonly h: Harness;
  readonly client: DanausClient;
}

/** Starts a supervisor with tenant `alpha` (its file's text), waits for the FUSE mount at `mount`, connects a client. */
export async function startLegacy(tenant: string, mount: string, before?: (h: Harness) => Promise<void>): Promise<LegacySetup> {
  const h = new Harness({ tenants: { alpha: tenant } });
  await before?.(h);
  await h.start(["alpha"]);
  await waitFor("the FUSE mount", () => isMountPoint(mount), 30_000);
  return { h, client: DanausClient.connect({ socket: join(h.dir, "state/run/alpha/router.sock") }) };
}

/** Disconnects, stops the supervisor, detaches a mount left behind (last resort) and removes `base`. */
export async function stopLegacy(setup: Partial<LegacySetup>, mount: string, base: string): Promise<void> {
  setup.client?.disconnect();
  await setup.h?.stop();
  if (isMountPoint(mount)) Bun.spawnSync(["umount", "-l", mount]);
  rmSync(base, { recursive: true, force: true });
}

/** A file written through the kernel is read through the client at once, and the reverse. */
export function expectCrossPathVisible(mount: string, client: DanausClient): void {
  writeFileSync(join(mount, "via-kernel"), "written through FUSE");
  const fd = client.open(`${mount}/via-kernel`, constants.O_RDONLY, 0);
  const buffer = new Uint8Array(100);
  expect(new TextDecoder().decode(buffer.subarray(0, client.pread(fd, buffer, 0)))).toBe("written through FUSE");
  client.close(fd);
  const out = client.open(`${mount}/via-client`, constants.O_CREAT | constants.O_WRONLY, 0o644);
  client.write(out, "written through the client");
  client.close(out);
  expect(readFileSync(join(mount, "via-client"), "utf8")).toBe("written through the client");
}

/**
 * A kernel-path process maps `mount`/mapped (a second name, mapped-too) MAP_SHARED; `client` writes the file through
 * the ring; the mapping shows the new bytes (waited for, as the notification is asynchronous) and stat of both names
 * the new size. With `again`, the client writes again while waiting (fuse-legacy may still be renewing its watch).
 */
export async function expectClientWriteInvalidates(mount: string, client: DanausClient, again = false): Promise<void> {
  const path = join(mount, "mapped");
  writeFileSync(path, "0123456789");
  linkSync(path, join(mount, "mapped-too"));
  const reader = mapShared(join(mount, "mapped-too"), 10);
  try {
    expect(await reader.read()).toBe("0123456789");
    expect(statSync(path).size).toBe(10);
    const write = () => {
      const fd = client.open(path, constants.O_WRONLY, 0);
      try {
        client.pwrite(fd, new TextEncoder().encode("abcdefghijKLM"), 0);
      } finally {
        client.close(fd);
      }
    };
    write();
    const shown = async () => {
      if ((await reader.read()) === "abcdefghij") return true;
      if (again) write();
      return false;
    };
    expect(await waitFor("the mapping to show the client's bytes", shown, 30_000)).toBe(true);
    expect(statSync(join(mount, "mapped-too")).size).toBe(13);
    expect(statSync(path).size).toBe(13);
  } finally {
    reader.close();
  }
}

/** `dir`/`names` as bytes (each name a byte string: one char per byte, not UTF-8). */
export const at = (dir: string, ...names: string[]): Buffer => Buffer.concat([Buffer.from(dir), ...names.map((n) => Buffer.from(`/${n}`, "latin1"))]);

/** How long a change through the ring may take to show through a mount: far below its timeouts, far above a drain on a busy machine. */
export const SHOWS_WITHIN_MS = 10_000;

/**
 * `client` renames, through the ring, a file over another (looked up through the kernel-path first, so cached) and
 * then a directory to a name the kernel cached as absent; through `mount`, the old names are gone, the new ones name
 * the moved file and directory, and the replaced file's other name shows one link, all long before the mount's
 * timeouts (whose caching the caller sets long). Names are not UTF-8.
 */
export async function expectClientRenameShows(mount: string, client: DanausClient): Promise<void> {
  mkdirSync(at(mount, "mv-dir"));
  writeFileSync(at(mount, "mv-from-\x80"), "moved");
  writeFileSync(at(mount, "mv-dir", "to"), "replaced");
  linkSync(at(mount, "mv-dir", "to"), at(mount, "mv-kept"));
  const moving = statSync(at(mount, "mv-from-\x80"));
  expect(readFileSync(at(mount, "mv-dir", "to"), "utf8")).toBe("replaced");
  expect(statSync(at(mount, "mv-kept")).nlink).toBe(2);
  expect(existsSync(at(mount, "mv-new-\xff"))).toBe(false);
  client.rename(at(mount, "mv-from-\x80"), at(mount, "mv-dir", "to"));
  await waitFor("the old name gone through the mount", () => !existsSync(at(mount, "mv-from-\x80")), SHOWS_WITHIN_MS);
  await waitFor("the new name naming the moved file", () => statSync(at(mount, "mv-dir", "to")).ino === moving.ino, SHOWS_WITHIN_MS);
  expect(readFileSync(at(mount, "mv-dir", "to"), "utf8")).toBe("moved");
  await waitFor("the replaced file's link count", () => statSync(at(mount, "mv-kept")).nlink === 1, SHOWS_WITHIN_MS);
  // A directory moves with what is under it; the new name was cached as absent.
  client.rename(at(mount, "mv-dir"), at(mount, "mv-new-\xff"));
  await waitFor("the moved directory under its new name", () => existsSync(at(mount, "mv-new-\xff", "to")), SHOWS_WITHIN_MS);
  expect(existsSync(at(mount, "mv-dir"))).toBe(false);
}

/** A script stored in the mount is exec'd by the kernel. */
export function expectScriptRuns(mount: string): void {
  writeFileSync(join(mount, "hello.sh"), "#!/bin/sh\necho hello from $(basename $0)\n", { mode: 0o755 });
  const run = Bun.spawnSync([join(mount, "hello.sh")], { stdout: "pipe" });
  expect(run.exitCode).toBe(0);
  expect(run.stdout.toString()).toBe("hello from hello.sh\n");
}

/** What {@link useLegacyTenant} gives a test file. */
export interface LegacyTenantFile {
  /** Whether its tests run (root and /dev/fuse; see {@link fuseTestsRun}). */
  readonly run: boolean;
  /** Where alpha's legacy mount is. */
  readonly mount: string;
  /** The running setup (after the file's beforeAll). */
  readonly setup: Partial<LegacySetup>;
}

/**
 * Registers the hooks a kernel-path test file needs: before all, a supervisor with tenant alpha (its file from
 * `tenant(mount)`, by default one direct legacy mount; `before` runs ahead of its start, e.g. to lay out the backend)
 * and a client; after all, everything stopped and removed. Not `wanted` (a file whose own condition fails), nothing
 * starts and `run` is false.
 */
export function useLegacyTenant(
  file: string,
  prefix: string,
  tenant: (mount: string) => string = directLegacyTenant,
  before?: (h: Harness) => void | Promise<void>,
  wanted = true,
): LegacyTenantFile {
  const run = wanted && fuseTestsRun(file);
  const base = mkdtempSync(join(tmpdir(), prefix));
  const used = { run, mount: join(base, "mnt"), setup: {} as Partial<LegacySetup> };
  beforeAll(async () => {
    if (run) used.setup = await startLegacy(tenant(used.mount), used.mount, async (h) => await before?.(h));
  }, 60_000);
  afterAll(() => stopLegacy(used.setup, used.mount, base), 60_000);
  return used;
}
