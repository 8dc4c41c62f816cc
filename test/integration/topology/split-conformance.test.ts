/**
 * The conformance suite through the fully split topology (issue 14): a real supervisor runs tenant alpha with
 * client-cache, union, ipc-router and fuse-legacy each in a process of its own. A direct mount's request crosses
 * router → client-cache over a channel; a union mount's crosses router → union → client-cache. Every case gets a mount
 * of its own, through the shared-memory client of an application; and, through the kernel, a fresh directory of a
 * legacy union mount (kernel → fuse-legacy → router → union → client-cache).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DanausClient } from "../../../shims/ts/index.ts";
import { isMountPoint } from "../../../kernel/sys/mounts.ts";
import { runConformance } from "../../conformance/index.ts";
import { NodeFsAdapter } from "../../conformance/node-fs-adapter.ts";
import { Harness, waitFor } from "../harness.ts";

/** Fresh mounts of each kind: one per conformance case (118 today). */
const MOUNTS = 128;
const FULLY_SPLIT = `topology = [["ipc-router"], ["union"], ["client-cache"], ["fuse-legacy"]]`;
const fuse = process.getuid?.() === 0 && existsSync("/dev/fuse");
if (!fuse) {
  if (process.env.CI === "true") throw new Error("split-conformance.test.ts needs root and /dev/fuse for its legacy mount, and CI has both");
  process.stderr.write("SKIP the legacy-mount part of split-conformance.test.ts: FUSE mounts need root and /dev/fuse\n");
}
const mounts = Array.from({ length: MOUNTS }, (_, i) => [
  `[[mounts]]\npath = "/mnt/test/d${i}"\nsource = "direct/d${i}"`,
  `[[mounts]]\npath = "/mnt/test/u${i}"\nupper = "uppers/u${i}"\nlowers = ["images/empty"]`,
]).flat();
const legacyMount = (path: string) => `[[mounts]]\npath = "${path}"\nupper = "uppers/legacy"\nlowers = ["images/empty"]\nlegacy = true`;
const tenant = (legacyPoint: string | null) =>
  [`name = "alpha"`, `cpus = [0]`, `memory = "1GiB"`, `shareCpus = true`, legacyPoint === null ? `topology = [["ipc-router"], ["union"], ["client-cache"]]` : FULLY_SPLIT, `[backend]`, `kind = "local"`, `root = "backends/alpha"`, ...mounts, ...(legacyPoint === null ? [] : [legacyMount(legacyPoint)])].join("\n");

let h: Harness;
let client: DanausClient;
const next = { d: 0, u: 0 };

let legacyPoint = "";

beforeAll(async () => {
  h = new Harness({ tenants: {} });
  legacyPoint = join(h.dir, "fuse");
  h.writeTenant("alpha", tenant(fuse ? legacyPoint : null));
  mkdirSync(join(h.dir, "state", "backends", "alpha", "images", "empty"), { recursive: true });
  await h.start(["alpha"]);
  if (fuse) await waitFor("the legacy mount", () => isMountPoint(legacyPoint), 30_000);
  client = DanausClient.connect({ socket: join(h.dir, "state/run/alpha/router.sock") });
}, 120_000);
afterAll(async () => {
  client?.disconnect();
  await h?.stop();
}, 60_000);

test("each data service runs in its own process and serves its part of the stack", async () => {
  const alpha = await h.tenant("alpha");
  const pids = new Set(alpha.services.map((s) => s.pid));
  expect(pids.size).toBe(fuse ? 4 : 3);
  const logs = h.logs.filter((l) => l.includes('" serving"') || l.includes("serving\""));
  const serving = (role: string) => logs.find((l) => l.includes(`"${role} serving"`));
  // The channel hosts serve the branches (client-cache) and the union mounts (union); the front serves every mount
  // point, each from the process below it.
  expect(serving("client-cache")).toContain(`"branch:direct/d0"`);
  expect(serving("client-cache")).toContain(`"branch:uppers/u0"`);
  expect(serving("client-cache")).not.toContain(`"/mnt/test/u0"`);
  expect(serving("union")).toContain(`"/mnt/test/u0"`);
  expect(serving("union")).not.toContain(`"/mnt/test/d0"`);
  expect(serving("union")).toContain(`"from":["client-cache"]`);
  expect(serving("ipc-router")).toContain(`"/mnt/test/d0"`);
  expect(serving("ipc-router")).toContain(`"from":["client-cache","union"]`);
});

const capabilities = { renameFlags: true, chown: true, hardLinks: true, largeFiles: true, symlinks: true, fifoIo: true };
/** The union's own: RENAME_NOREPLACE, not RENAME_EXCHANGE (as in test/services/union/conformance.test.ts). */
const unionCapabilities = { ...capabilities, renameFlags: false, renameNoreplace: true };

runConformance("fully split: direct mounts (router → client-cache)", {
  async newFs() {
    if (next.d >= MOUNTS) throw new Error(`only ${MOUNTS} fresh direct mounts; raise MOUNTS`);
    return { fs: client.fileSystem(`/mnt/test/d${next.d++}`), cleanup() {} };
  },
  capabilities,
});

runConformance("fully split: union mounts (router → union → client-cache)", {
  async newFs() {
    if (next.u >= MOUNTS) throw new Error(`only ${MOUNTS} fresh union mounts; raise MOUNTS`);
    return { fs: client.fileSystem(`/mnt/test/u${next.u++}`), cleanup() {} };
  },
  capabilities: unionCapabilities,
  why: { renameFlags: "the union has no RENAME_EXCHANGE" },
});

if (fuse) {
  let fresh = 0;
  runConformance("fully split, through the kernel: a legacy union mount (kernel → fuse-legacy → router → union → client-cache)", {
    async newFs() {
      const dir = join(legacyPoint, `case-${fresh++}`);
      mkdirSync(dir);
      return { fs: new NodeFsAdapter(dir), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
    capabilities: { renameFlags: false, fifoIo: true, deepPaths: false },
    why: { renameFlags: "node:fs has no renameat2", renameNoreplace: "node:fs has no renameat2", deepPaths: "node:fs passes whole paths to one syscall" },
  });
}
