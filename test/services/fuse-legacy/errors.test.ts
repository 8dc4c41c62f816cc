/**
 * @module test/services/fuse-legacy/errors — pjdfstest-style errno checks through the FUSE mount, differential: the
 * same cases (fixtures/errno-cases.ts) run with plain node:fs on a host directory and on the mount, and must give the
 * same errno, so the expectations are Linux's own. The permission cases run as uid nobody (setpriv) against a mount
 * with allow_other and default_permissions. Skipped with a printed reason when not root or without /dev/fuse (failed
 * under CI=true).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import * as nodeFs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMountPoint } from "../../../kernel/sys/mounts.ts";
import type { FuseServer } from "../../../services/fuse-legacy/server/index.ts";
import { type CaseResults, OTHER_UID, prepareUserFixture, rootCases } from "./fixtures/errno-cases.ts";
import { mountTestsSkipped, recordingLogger, serveLocalBackend } from "./fixtures/mount-support.ts";

const skipped = mountTestsSkipped("errors.test.ts");
const base = nodeFs.mkdtempSync(join(tmpdir(), "danaus-fuse-errors-"));
const mountPoint = join(base, "mnt");
const backing = join(base, "backing");
const host = join(base, "host");
for (const dir of [mountPoint, backing, host]) nodeFs.mkdirSync(dir);
nodeFs.chmodSync(base, 0o755);
const logger = recordingLogger();
let server: FuseServer | undefined;

afterAll(async () => {
  try {
    if (server !== undefined) expect(await server.stop()).toBe("unmounted");
  } finally {
    if (isMountPoint(mountPoint)) spawnSync("umount", ["-l", mountPoint]);
    nodeFs.rmSync(base, { recursive: true, force: true });
  }
});

/** A fresh empty directory under `parent` (the host directory or the mount point). */
function fresh(parent: string, name: string): string {
  const dir = join(parent, name);
  nodeFs.mkdirSync(dir);
  return dir;
}

/** Runs the permission and creator cases in `dir` as uid/gid {@link OTHER_UID} with no supplementary groups. */
function userCasesAsNobody(dir: string): { permissions: CaseResults; creator: CaseResults } {
  const script = new URL("./fixtures/errno-cases.ts", import.meta.url).pathname;
  const run = spawnSync(
    "setpriv",
    [`--reuid=${OTHER_UID}`, `--regid=${OTHER_UID}`, "--clear-groups", "env", `HOME=${base}`, process.execPath, script, dir],
    { encoding: "utf8", timeout: 60_000, killSignal: "SIGKILL" },
  );
  if (run.error !== undefined) throw run.error;
  if (run.status !== 0) throw new Error(`errno cases as uid ${OTHER_UID} failed (status ${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim()) as { permissions: CaseResults; creator: CaseResults };
}

/** Case labels start with the errno Linux gives (or "ok"); a label that does not match the host is a wrong label. */
function expectLabelsMatch(results: CaseResults): void {
  const mislabelled = Object.entries(results).filter(([name, got]) => {
    const label = name.split(" ")[0]!;
    return /^(E[A-Z]+|ok)$/.test(label) && label !== got;
  });
  expect(mislabelled).toEqual([]);
}

if (skipped === undefined) {
  beforeAll(async () => {
    server = await serveLocalBackend(mountPoint, backing, { logger });
  });

  describe("errno through the mount equals errno on a host directory", () => {
    test("the mount has allow_other and default_permissions, so the kernel checks other uids", () => {
      const line = nodeFs.readFileSync("/proc/self/mounts", "utf8").split("\n").find((l) => l.split(" ")[1] === mountPoint);
      expect(line).toContain("default_permissions");
      expect(line).toContain("allow_other");
    });

    test("ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, ENAMETOOLONG, ELOOP, EINVAL, EPERM as root", () => {
      const onHost = rootCases(fresh(host, "root-cases"));
      expectLabelsMatch(onHost);
      const onMount = rootCases(fresh(mountPoint, "root-cases"));
      expect(onMount).toEqual(onHost);
    });

    const noSetpriv = spawnSync("setpriv", ["--version"]).error !== undefined;
    if (noSetpriv) process.stderr.write("errors.test.ts: skipping the other-uid cases: setpriv (util-linux) is missing\n");
    let asNobody: { host: ReturnType<typeof userCasesAsNobody>; mount: ReturnType<typeof userCasesAsNobody> } | undefined;
    /** The other-uid cases, run once on each side (the creator cases continue where the permission cases stopped). */
    const runAsNobody = () => {
      if (asNobody === undefined) {
        const hostDir = fresh(host, "user-cases");
        const mountDir = fresh(mountPoint, "user-cases");
        prepareUserFixture(hostDir);
        prepareUserFixture(mountDir);
        asNobody = { host: userCasesAsNobody(hostDir), mount: userCasesAsNobody(mountDir) };
      }
      return asNobody;
    };

    test.skipIf(noSetpriv)("EACCES and EPERM for another uid (0600 file, 0755 dir, 0700 dir, sticky dir, chmod/chown by non-owner)", () => {
      const { host: onHost, mount: onMount } = runAsNobody();
      expectLabelsMatch(onHost.permissions);
      expect(onMount.permissions).toEqual(onHost.permissions);
    }, 60_000);

    // CREATE, MKNOD, MKDIR and SYMLINK give the new node to the requester's uid/gid from fuse_in_header (the server
    // creates as root): another user can chmod its new files and reopen them at 0600, as on the host.
    test.skipIf(noSetpriv)("what another uid creates is its own (owner, chmod, reopen at 0600)", () => {
      const { host: onHost, mount: onMount } = runAsNobody();
      expectLabelsMatch(onHost.creator);
      expect(onMount.creator).toEqual(onHost.creator);
    }, 60_000);

    test("the server logged no handler bugs", () => {
      expect(logger.lines.filter((line) => line.level === "error")).toEqual([]);
    });
  });
}
