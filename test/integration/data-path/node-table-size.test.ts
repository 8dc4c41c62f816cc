/**
 * `[fuse] maxNodes` sizes a legacy mount's node table for real: with 1024 nodes, a process that looks up more names
 * than that while the kernel still holds them (long entry timeouts) gets ENFILE past the table, and the names the
 * table holds keep being served; the default table would hold them all.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { constants } from "node:fs";
import { join } from "node:path";
import { directLegacyTenant, useLegacyTenant } from "./legacy-fixture.ts";

setDefaultTimeout(120_000);
const legacy = useLegacyTenant("node-table-size.test.ts", "danaus-nodes-", (mount) => `${directLegacyTenant(mount)}\n[fuse]\nmaxNodes = 1024\nentryTimeoutMs = 600000\nattrTimeoutMs = 600000`);
const root = legacy.run;
const MOUNT = legacy.mount;
const FILES = 1500;

test.skipIf(!root)("a 1024-node table answers ENFILE for lookups past it, and still serves the names it holds", () => {
  const client = legacy.setup.client!;
  // Created through the client, so the kernel holds none of them yet.
  for (let i = 0; i < FILES; i++) client.close(client.open(`${MOUNT}/f${i}`, constants.O_CREAT | constants.O_WRONLY, 0o644));
  const run = Bun.spawnSync(["python3", "-c", `
import errno, os, sys
m = sys.argv[1]
codes = {}
for i in range(${FILES}):
    try:
        os.stat(os.path.join(m, "f%d" % i))
        codes["ok"] = codes.get("ok", 0) + 1
    except OSError as e:
        codes[errno.errorcode[e.errno]] = codes.get(errno.errorcode[e.errno], 0) + 1
print(codes.get("ok", 0), codes.get("ENFILE", 0), sorted(codes))
os.stat(os.path.join(m, "f0"))
print("f0 still served")
`, MOUNT], { stdout: "pipe", stderr: "pipe" });
  expect(run.stderr.toString()).toBe("");
  const [line, last] = run.stdout.toString().trim().split("\n");
  const [ok, enfile] = line!.split(" ").map(Number) as [number, number];
  console.log(`node table of 1024: ${ok} stats served, ${enfile} ENFILE`);
  expect(ok).toBeGreaterThan(0);
  expect(ok).toBeLessThan(1024);
  expect(enfile).toBe(FILES - ok);
  expect(last).toBe("f0 still served");
});
