/** @module test/kernel/pool/detect — detectPoolSupport on this host and on fake, missing and read-only cgroupfs paths. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectPoolSupport } from "../../../kernel/pool/index.ts";
import { bun } from "./fixtures.ts";

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn(`detect.test.ts: skipping the fake-cgroupfs tests: not root (uid ${process.getuid?.()}), detection stops at that`);
const detectModule = join(import.meta.dir, "../../../kernel/pool/detect.ts");
let scratch = "";

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), "danaus-detect-"));
});

afterEach(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A directory laid out like a v1 hybrid cgroupfs (cpuset/ and memory/ with their marker files), but ordinary. */
function fakeV1(root: string): void {
  mkdirSync(join(root, "cpuset"));
  mkdirSync(join(root, "memory"));
  writeFileSync(join(root, "cpuset", "cpuset.cpus"), "0-1\n");
  writeFileSync(join(root, "memory", "memory.limit_in_bytes"), "9223372036854771712\n");
}

/** detectPoolSupport(cgroupFs) as seen by a child process started with `prefix` (setpriv, unshare, ...). */
async function detectInChild(prefix: string[], cgroupFs: string): Promise<unknown> {
  const script = `import { detectPoolSupport } from ${JSON.stringify(detectModule)}; console.log(JSON.stringify(detectPoolSupport(process.argv[1])));`;
  const child = Bun.spawn([...prefix, bun, "-e", script, cgroupFs], { stdout: "pipe", stderr: "pipe", env: { ...process.env, HOME: tmpdir() } });
  const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
  if ((await child.exited) !== 0) throw new Error(`detect child failed: ${stderr}`);
  return JSON.parse(stdout);
}

describe("detectPoolSupport", () => {
  test("on this host answers one of the three kinds and leaves no probe group behind", () => {
    const support = detectPoolSupport();
    expect(["cgroup-v1", "cgroup-v2", "unavailable"]).toContain(support.kind);
    if (support.kind === "unavailable") console.warn(`detect: this host cannot make pools: ${support.reason}`);
    const roots = support.kind === "cgroup-v1" ? [support.cpusetRoot, support.memoryRoot] : support.kind === "cgroup-v2" ? [support.root] : [];
    for (const root of roots) expect(readdirSync(root).filter((name) => name.startsWith("danaus.probe-"))).toEqual([]);
  });

  test.skipIf(!isRoot)("a path that does not exist is unavailable, and the reason names it", () => {
    const missing = join(scratch, "no-such-cgroupfs");
    const support = detectPoolSupport(missing);
    expect(support).toEqual({ kind: "unavailable", reason: expect.stringContaining(`${missing} does not exist`) });
  });

  test.skipIf(!isRoot)("a directory without cpuset or memory hierarchies is unavailable: controllers missing", () => {
    mkdirSync(join(scratch, "cpuset"));
    writeFileSync(join(scratch, "cpuset", "cpuset.cpus"), "0\n");
    const support = detectPoolSupport(scratch);
    expect(support.kind).toBe("unavailable");
    if (support.kind !== "unavailable") return;
    expect(support.reason).toContain("controllers missing");
    expect(support.reason).toContain("memory");
    expect(support.reason).not.toContain("cpuset (");
  });

  test.skipIf(!isRoot)("a cgroup2 root without cpuset and memory in cgroup.controllers is unavailable", () => {
    writeFileSync(join(scratch, "cgroup.controllers"), "cpu io pids\n");
    const support = detectPoolSupport(scratch);
    expect(support).toEqual({ kind: "unavailable", reason: expect.stringContaining("lacks the cpuset and memory controller") });
  });

  test.skipIf(!isRoot)("an ordinary writable directory shaped like cgroupfs is not taken for one", () => {
    fakeV1(scratch);
    const support = detectPoolSupport(scratch);
    expect(support).toEqual({ kind: "unavailable", reason: expect.stringContaining("is not a cgroup filesystem") });
    expect(readdirSync(join(scratch, "cpuset")).filter((name) => name.startsWith("danaus.probe-"))).toEqual([]);
  });

  test.skipIf(!isRoot || !existsSync("/usr/bin/unshare"))("a read-only cgroupfs is unavailable with EROFS in the reason", async () => {
    fakeV1(scratch);
    // The read-only bind mount lives only in the child's private mount namespace, so nothing can leak from this test.
    const mountReadOnly = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"';
    const support = await detectInChild(["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", mountReadOnly, "sh", scratch], scratch);
    expect(support).toEqual({ kind: "unavailable", reason: expect.stringMatching(/mkdir .*danaus\.probe-.* failed with EROFS/) });
  });

  test.skipIf(!isRoot || !existsSync("/usr/bin/setpriv"))("a process that is not root is told so", async () => {
    const nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
    const support = await detectInChild(nobody, "/sys/fs/cgroup");
    expect(support).toEqual({ kind: "unavailable", reason: "not root (uid 65534): making cgroups needs root" });
  });
});
