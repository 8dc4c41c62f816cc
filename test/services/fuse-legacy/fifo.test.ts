/**
 * @module test/services/fuse-legacy/fifo — a FIFO through a FUSE mount is the kernel's pipe: a reader blocked in its
 * open holds no serving Worker (another process's stat is answered meanwhile), a writer arriving later releases it and
 * the bytes arrive. Skipped with a printed reason when not root or without /dev/fuse (failed under CI=true).
 */
import { afterAll, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FuseServer } from "../../../services/fuse-legacy/server/index.ts";
import { mountTestsSkipped, serveLocalBackend, stopAndRemove } from "./fixtures/mount-support.ts";

const skipped = mountTestsSkipped("fifo.test.ts");
const base = mkdtempSync(join(tmpdir(), "danaus-fuse-fifo-"));
const mountPoint = join(base, "mnt");
let server: FuseServer | undefined;

/** Waits until process `pid` is blocked in openat(2) (its /proc syscall file names syscall 257). */
async function blockedInOpen(pid: number): Promise<void> {
  for (let tries = 0; !readFileSync(`/proc/${pid}/syscall`, "utf8").startsWith("257 "); tries++) {
    if (tries > 1500) throw new Error(`process ${pid} never blocked in openat`);
    await Bun.sleep(20);
  }
}

afterAll(() => stopAndRemove(server, mountPoint, base));

test.skipIf(skipped !== undefined)("a reader blocked on a FIFO of the mount holds no serving Worker; a later writer releases it", async () => {
  mkdirSync(mountPoint);
  server = await serveLocalBackend(mountPoint, join(base, "root"), { threads: 1 });
  const fifo = join(mountPoint, "p");
  expect(spawnSync("mkfifo", ["-m", "600", fifo]).status).toBe(0);
  const reader = spawn("cat", [fifo], { stdio: ["ignore", "pipe", "pipe"] });
  let read = "";
  reader.stdout.on("data", (chunk: Buffer) => (read += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => reader.on("exit", resolve));
  try {
    await blockedInOpen(reader.pid!);
    // With one serving Worker, these answer only because the reader waits in the kernel, not in the server.
    expect(spawnSync("stat", ["-c", "%F", fifo], { encoding: "utf8" }).stdout.trim()).toBe("fifo");
    expect(spawnSync("ls", [mountPoint], { encoding: "utf8" }).stdout.trim()).toBe("p");
    expect(reader.exitCode).toBeNull();
    expect(spawnSync("sh", ["-c", `printf 'through the kernel' > ${fifo}`]).status).toBe(0);
    expect(await exited).toBe(0);
    expect(read).toBe("through the kernel");
  } finally {
    if (reader.exitCode === null) reader.kill("SIGKILL");
  }
}, 60_000);
