/**
 * The conformance suite through the LD_PRELOAD library: each case drives conformance-driver.c, started by
 * `danaus run --tenant conf` (and `--asan`), call by call (driver-fs.ts). The instance is the root of conf's mount,
 * which is not legacy: no kernel process can see it, so every call went through the library and the shared-memory
 * ring. The mount is emptied through the driver before each case; after it, the driver must exit cleanly with nothing
 * on stderr (no AddressSanitizer report, no library complaint).
 */
import { afterAll, beforeAll, expect, setDefaultTimeout } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { S_IFDIR, S_IFMT, type FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import { listDirectory } from "../../conformance/harness.ts";
import { runConformance, type ConformanceCapabilities, type ConformanceOptions } from "../../conformance/index.ts";
import { Harness, tenantToml } from "../harness.ts";
import { DriverFs } from "./driver-fs.ts";

setDefaultTimeout(120_000);
const ROOT = resolve(import.meta.dir, "../../..");
const MOUNT = "/mnt/test/conf";
let h: Harness;
let scratch: string;
let driver: string;

beforeAll(async () => {
  const build = Bun.spawnSync(["bash", join(ROOT, "shims/preload/build.sh")], { stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`building the preload library failed: ${build.stderr.toString()}`);
  scratch = mkdtempSync(join(tmpdir(), "danaus-preload-conformance-"));
  driver = join(scratch, "conformance-driver");
  const built = Bun.spawnSync(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", driver, join(import.meta.dir, "conformance-driver.c")], { stderr: "pipe" });
  if (built.exitCode !== 0) throw new Error(`building the driver failed: ${built.stderr.toString()}`);
  h = new Harness({ tenants: { conf: tenantToml("conf", 0, "", "") } });
  await h.start(["conf"]);
}, 60_000);
afterAll(async () => {
  await h?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}, 60_000);

/** Removes everything under `path` through `fs` (a case may leave a directory without permissions: it gets 0700). */
function empty(fs: FileSystem, path: string): void {
  for (const entry of listDirectory(fs, path)) {
    const child = path === "" ? entry.name : `${path}/${entry.name}`;
    if ((fs.lstat(child).st_mode & S_IFMT) === S_IFDIR) {
      fs.chmod(child, 0o700);
      empty(fs, child);
      fs.rmdir(child);
    } else {
      fs.unlink(child);
    }
  }
}

/** The suite's options for the library (the ASan build with `asan`). */
function options(asan: boolean): ConformanceOptions {
  const capabilities: ConformanceCapabilities = { renameFlags: true, fifoIo: true, deepPaths: false };
  return {
    capabilities,
    why: {
      deepPaths: "the library builds paths inside a mount in PATH_MAX buffers on the caller's stack: ENAMETOOLONG beyond (README, preload limits)",
    },
    async newFs() {
      const argv = [process.execPath, join(ROOT, "kernel/cli/main.ts"), "run", "--tenant", "conf", "--config", h.hostFile, ...(asan ? ["--asan"] : []), "--", driver];
      const fs = new DriverFs(MOUNT, argv, { ...process.env }, scratch);
      try {
        empty(fs, "");
        expect(listDirectory(fs, "")).toEqual([]);
      } catch (error) {
        await fs.stop();
        throw error;
      }
      return {
        fs,
        async cleanup() {
          let emptied: unknown;
          try {
            empty(fs, "");
          } catch (error) {
            emptied = error;
          }
          const ended = await fs.stop();
          expect({ code: ended.code, stderr: ended.stderr }).toEqual({ code: 0, stderr: "" });
          if (emptied) throw emptied;
        },
      };
    },
  };
}

runConformance("the preload library through conformance-driver.c (danaus run)", options(false));
runConformance("the preload library's AddressSanitizer build through conformance-driver.c (danaus run --asan)", options(true));

afterAll(() => {
  // The mount stayed invisible to the kernel: everything above went through the library.
  expect(existsSync(MOUNT)).toBe(false);
});
