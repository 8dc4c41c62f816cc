/**
 * @module test/services/fuse-legacy/kill — a FUSE server process killed with SIGKILL leaves a dead mount (ENOTCONN)
 * that `umount -l` removes. Skipped with a printed reason when not root or without /dev/fuse (failed under CI=true).
 */
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import * as nodeFs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mountTestsSkipped } from "./fixtures/mount-support.ts";

const skipped = mountTestsSkipped("kill.test.ts");
const base = nodeFs.mkdtempSync(join(tmpdir(), "danaus-fuse-kill-"));
const mountPoint = join(base, "mnt");
const root = join(base, "root");
nodeFs.mkdirSync(mountPoint);
nodeFs.mkdirSync(root);

const mounted = (): boolean => nodeFs.readFileSync("/proc/mounts", "utf8").includes(` ${mountPoint} `);

afterAll(() => {
  if (mounted()) spawnSync("umount", ["-l", mountPoint]);
  nodeFs.rmSync(base, { recursive: true, force: true });
});

test.skipIf(skipped !== undefined)("a SIGKILLed server leaves ENOTCONN; umount -l cleans the mount", async () => {
  nodeFs.writeFileSync(join(root, "file"), "served");
  const child = Bun.spawn([process.execPath, new URL("./fixtures/serve-forever.ts", import.meta.url).pathname, mountPoint, root], {
    stdout: "pipe",
    stderr: "inherit",
  });
  try {
    const reader = child.stdout.getReader();
    let output = "";
    const deadline = Date.now() + 10_000;
    while (!output.includes("mounted") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      output += new TextDecoder().decode(value);
    }
    expect(output).toContain("mounted");
    expect(nodeFs.readFileSync(join(mountPoint, "file"), "utf8")).toBe("served");
  } finally {
    child.kill("SIGKILL");
    await child.exited;
  }
  expect(mounted()).toBe(true);
  let code: string | undefined;
  try {
    nodeFs.statSync(join(mountPoint, "file"));
  } catch (error) {
    code = (error as { code?: string }).code;
  }
  expect(code).toBe("ENOTCONN");
  expect(spawnSync("umount", ["-l", mountPoint]).status).toBe(0);
  expect(mounted()).toBe(false);
}, 20_000);
