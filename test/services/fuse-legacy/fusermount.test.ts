/**
 * @module test/services/fuse-legacy/fusermount — mounting through the setuid helper fusermount3: the `-o` options it
 * is given, a root-owned server forced onto it (I/O, then unmounted), and a real unprivileged run as uid nobody where
 * mount(2) is refused and the fallback mounts. Skipped with a printed reason without fusermount3 or /dev/fuse (failed
 * under CI=true, where scripts/test.sh installs fuse3).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import * as nodeFs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMountPoint } from "../../../kernel/sys/mounts.ts";
import { findFusermount, type FuseServer, fusermountOptions, userAllowOther } from "../../../services/fuse-legacy/server/index.ts";
import { recordingLogger, serveLocalBackend } from "./fixtures/mount-support.ts";

/** Why fusermount3 mounts cannot be tested here, or undefined; printed, and fatal under CI=true. */
function fusermountSkipped(): string | undefined {
  const reason = findFusermount() === undefined ? "fusermount3 is not installed (apt-get install fuse3)" : nodeFs.existsSync("/dev/fuse") ? undefined : "/dev/fuse is missing";
  if (reason === undefined) return undefined;
  if (process.env.CI === "true") throw new Error(`fusermount.test.ts: cannot run under CI: ${reason}`);
  process.stderr.write(`fusermount.test.ts: skipping fusermount3 mount tests: ${reason}\n`);
  return reason;
}

const skipped = fusermountSkipped();
const base = nodeFs.mkdtempSync(join(tmpdir(), "danaus-fusermount-"));
const servers: FuseServer[] = [];

afterAll(async () => {
  try {
    for (const server of servers) await server.stop();
  } finally {
    for (const name of nodeFs.readdirSync(base)) {
      const mountPoint = join(base, name, "mnt");
      if (nodeFs.existsSync(mountPoint) && isMountPoint(mountPoint)) spawnSync("umount", ["-l", mountPoint]);
    }
    try {
      nodeFs.rmSync(base, { recursive: true, force: true });
    } catch (error) {
      // Bun's recursive rm answers EFAULT for an errno its table lacks (oven-sh/bun#35749); here, about one run in five,
      // right after the unmounts (the mount points still busy a moment). rm(1) then removes the tree.
      process.stderr.write(`fusermount.test.ts: rmSync of ${base} failed (${(error as Error).message}); removing with rm -rf\n`);
      spawnSync("rm", ["-rf", base]);
      if (nodeFs.existsSync(base)) throw error;
    }
  }
});

/** A fresh (mount point, backing root) pair under `base`. */
function freshPair(name: string): { mountPoint: string; root: string; dir: string } {
  const dir = join(base, name);
  nodeFs.mkdirSync(join(dir, "mnt"), { recursive: true });
  nodeFs.mkdirSync(join(dir, "root"));
  return { mountPoint: join(dir, "mnt"), root: join(dir, "root"), dir };
}

const mountLineOf = (mountPoint: string): string | undefined =>
  nodeFs.readFileSync("/proc/self/mounts", "utf8").split("\n").find((line) => line.split(" ")[1] === mountPoint);

describe("the options given to fusermount3", () => {
  const wanted = { name: "danaus.alpha", allowOther: true, defaultPermissions: true };

  test("root gets allow_other; fsname and subtype make the mount `<name>` of type fuse.<name>", () => {
    expect(fusermountOptions(wanted, true, false)).toEqual({
      opts: "nosuid,nodev,fsname=danaus.alpha,subtype=danaus.alpha,default_permissions,allow_other",
      dropped: [],
    });
  });

  test("a user without user_allow_other in /etc/fuse.conf loses allow_other (fusermount3 would refuse the mount)", () => {
    expect(fusermountOptions(wanted, false, false)).toEqual({
      opts: "nosuid,nodev,fsname=danaus.alpha,subtype=danaus.alpha,default_permissions",
      dropped: ["allow_other"],
    });
    expect(fusermountOptions(wanted, false, true).dropped).toEqual([]);
  });

  test("commas and backslashes in the name are escaped the way fusermount3 parses fsname", () => {
    expect(fusermountOptions({ name: "a,b\\c", allowOther: false, defaultPermissions: false }, true, false).opts).toBe(
      "nosuid,nodev,fsname=a\\,b\\\\c,subtype=a\\,b\\\\c",
    );
  });

  test("user_allow_other counts only as a line of its own, not commented out", () => {
    expect(userAllowOther("# comment\n#user_allow_other\n")).toBe(false);
    expect(userAllowOther("mount_max = 1000\nuser_allow_other  \n")).toBe(true);
    expect(userAllowOther("user_allow_other_not\n")).toBe(false);
  });
});

describe.skipIf(skipped !== undefined)("mounting through fusermount3", () => {
  test("a server forced onto fusermount3 serves write, read and readdir, and is gone after stop", async () => {
    const { mountPoint, root } = freshPair("forced");
    const logger = recordingLogger();
    const server = await serveLocalBackend(mountPoint, root, { logger, mountWith: "fusermount3" });
    servers.push(server);
    expect(server.mountedBy).toBe("fusermount3");
    expect(logger.lines.some((line) => line.msg === "FUSE mounted through fusermount3")).toBe(true);
    const line = mountLineOf(mountPoint);
    expect(line).toStartWith(`danaus ${mountPoint} fuse.danaus `);
    expect(line).toContain("nosuid,nodev");
    expect(line).toContain("default_permissions");
    if (process.getuid?.() === 0) expect(line).toContain("allow_other");

    nodeFs.mkdirSync(join(mountPoint, "sub"));
    nodeFs.writeFileSync(join(mountPoint, "sub", "hello.txt"), "through fusermount3");
    nodeFs.appendFileSync(join(mountPoint, "sub", "hello.txt"), "!");
    expect(nodeFs.readFileSync(join(mountPoint, "sub", "hello.txt"), "utf8")).toBe("through fusermount3!");
    expect(nodeFs.readFileSync(join(root, "sub", "hello.txt"), "utf8")).toBe("through fusermount3!");
    nodeFs.writeFileSync(join(root, "sub", "from-backing"), "x");
    expect(nodeFs.readdirSync(join(mountPoint, "sub")).sort()).toEqual(["from-backing", "hello.txt"]);

    expect(await server.stop()).toBe("unmounted");
    expect(isMountPoint(mountPoint)).toBe(false);
    expect(nodeFs.readdirSync(mountPoint)).toEqual([]);
  }, 30_000);

  test.skipIf(process.getuid?.() !== 0)("as root, the default is mount(2)", async () => {
    const { mountPoint, root } = freshPair("default");
    const server = await serveLocalBackend(mountPoint, root);
    servers.push(server);
    expect(server.mountedBy).toBe("mount(2)");
    expect(await server.stop()).toBe("unmounted");
    expect(isMountPoint(mountPoint)).toBe(false);
  }, 30_000);

  test("uid nobody mounts: mount(2) is refused, fusermount3 mounts, I/O works, stop unmounts", () => {
    const { mountPoint, root, dir } = freshPair("unprivileged");
    const home = join(dir, "home");
    nodeFs.mkdirSync(home);
    const script = new URL("./fixtures/unprivileged-mount.ts", import.meta.url).pathname;
    const asRoot = process.getuid?.() === 0;
    let command: string[];
    if (!asRoot) {
      // Already unprivileged: run it as ourselves (needs a /dev/fuse we may open, as on a stock distribution).
      try {
        nodeFs.accessSync("/dev/fuse", nodeFs.constants.R_OK | nodeFs.constants.W_OK);
      } catch {
        if (process.env.CI === "true") throw new Error("fusermount.test.ts: /dev/fuse is not read-writable for this user");
        process.stderr.write("fusermount.test.ts: skipping the unprivileged run: /dev/fuse is not read-writable for this user\n");
        return;
      }
      command = [process.execPath, script, mountPoint, root];
    } else {
      nodeFs.chmodSync(base, 0o755);
      nodeFs.chmodSync(dir, 0o755);
      for (const path of [mountPoint, root, home]) nodeFs.chownSync(path, 65534, 65534);
      const asNobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", `HOME=${home}`, `TMPDIR=${home}`];
      const stat = nodeFs.statSync("/dev/fuse");
      if ((stat.mode & 0o006) === 0o006) {
        command = [...asNobody, process.execPath, script, mountPoint, root];
      } else {
        // fusermount3 opens /dev/fuse as the calling user, and distributions make it 0666; this machine has 0600.
        // Give the run a 0666 node of the same device in a private mount namespace instead of changing the host's.
        const devDir = join(dir, "dev");
        nodeFs.mkdirSync(devDir);
        const setup = [
          "set -e",
          `mount -t tmpfs -o mode=755 danaus-test-dev "${devDir}"`,
          `mknod -m 666 "${devDir}/fuse" c ${Math.floor(stat.rdev / 256)} ${stat.rdev % 256}`,
          `mount --bind "${devDir}/fuse" /dev/fuse`,
          'exec "$@"',
        ].join("\n");
        command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", setup, "sh", ...asNobody, process.execPath, script, mountPoint, root];
      }
    }
    const run = spawnSync(command[0]!, command.slice(1), { encoding: "utf8", timeout: 60_000, killSignal: "SIGKILL" });
    if (run.error !== undefined) throw run.error;
    if (run.status !== 0) process.stderr.write(`unprivileged run failed:\n${run.stderr}\n`);
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
    expect(report.uid).toBe(asRoot ? 65534 : process.getuid?.());
    expect(report.mountedBy).toBe("fusermount3");
    expect(report.mountLine).toContain(`fuse.danaus`);
    expect(report.mountLine).toContain(`user_id=${report.uid}`);
    expect(report.read).toBe("written by an unprivileged mount");
    expect(report.backing).toBe("written by an unprivileged mount");
    expect(report.listing).toEqual(["dir"]);
    expect(report.owner).toBe(report.uid);
    expect(report.stopped).toBe("unmounted");
    expect(report.mountedAfterStop).toBe(false);
    const fallback = (report.logs as { msg: string; fields?: { mount2?: string; dropped?: string[] } }[]).find((line) => line.msg === "FUSE mounted through fusermount3");
    expect(["EPERM", "EACCES"]).toContain(fallback?.fields?.mount2 ?? "");
    expect(fallback?.fields?.dropped).toEqual(userAllowOther() ? [] : ["allow_other"]);
    expect(isMountPoint(mountPoint)).toBe(false);
  }, 90_000);
});
