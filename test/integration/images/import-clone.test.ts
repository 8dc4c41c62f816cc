/**
 * The image commands against a running supervisor: `danaus image import` writes an image of two layer tars (the top
 * one whiting out a file of the bottom one) onto a tenant's local backend, `danaus clone` adds two union mounts and
 * reloads, and the restarted tenant service serves them: each clone sees the merged image and its own writes only.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { constants, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FsError } from "../../../kernel/ipc/protocol/index.ts";
import { DanausClient } from "../../../shims/ts/client.ts";
import { systemTar } from "../../kernel/images/fixture.ts";
import { Harness, waitFor } from "../harness.ts";

setDefaultTimeout(60_000);
let h: Harness;
let client: DanausClient | null = null;
const CLONES = "/mnt/danaus/alpha/clones";

const tenant = [
  `name = "alpha"`,
  `cpus = [0]`,
  `memory = "384MiB"`,
  `shareCpus = true`,
  `[backend]`,
  `kind = "local"`,
  `root = "backends/alpha"`,
  `[[mounts]]`,
  `path = "/mnt/danaus/alpha/data"`,
  `source = "data"`,
].join("\n");

function text(path: string): string {
  const fd = client!.open(path, constants.O_RDONLY, 0);
  try {
    const buffer = new Uint8Array(4096);
    return new TextDecoder().decode(buffer.subarray(0, client!.pread(fd, buffer, 0)));
  } finally {
    client!.close(fd);
  }
}

beforeAll(async () => {
  h = new Harness({ tenants: { alpha: tenant } });
  const bottom = join(h.dir, "src", "bottom");
  const top = join(h.dir, "src", "top");
  mkdirSync(join(bottom, "etc"), { recursive: true });
  mkdirSync(join(top, "etc"), { recursive: true });
  writeFileSync(join(bottom, "etc", "motd"), "from layer0\n");
  writeFileSync(join(bottom, "etc", "hidden"), "whited out by layer1\n");
  writeFileSync(join(top, "etc", ".wh.hidden"), "");
  writeFileSync(join(top, "etc", "issue"), "from layer1\n");
  systemTar(bottom, "-cf", join(h.dir, "layer0.tar"), ".");
  systemTar(top, "-czf", join(h.dir, "layer1.tar.gz"), ".");
  await h.start(["alpha"]);
}, 60_000);
afterAll(async () => {
  client?.disconnect();
  await h?.stop();
}, 60_000);

test("import, clone, reload: the new union mounts are served", async () => {
  const imported = await h.cli("image", "import", "alpha", "base", join(h.dir, "layer0.tar"), join(h.dir, "layer1.tar.gz"));
  expect(imported.stderr).toBe("");
  expect(imported.code).toBe(0);
  const cloned = await h.cli("clone", "alpha", "base", "2");
  expect(cloned.stderr).toBe("");
  expect(cloned.code).toBe(0);
  expect(cloned.stdout).toContain("reloaded the supervisor");
  const socket = join(h.dir, "state/run/alpha/router.sock");
  client = await waitFor("the clone mounts served", () => {
    try {
      const c = DanausClient.connect({ socket });
      try {
        c.stat(`${CLONES}/base-1/etc`);
        return c;
      } catch {
        c.disconnect();
        return null;
      }
    } catch {
      return null;
    }
  });
  expect(text(`${CLONES}/base-0/etc/motd`)).toBe("from layer0\n");
  expect(text(`${CLONES}/base-0/etc/issue`)).toBe("from layer1\n");
  expect(() => client!.stat(`${CLONES}/base-0/etc/hidden`)).toThrow(FsError);
  const fd = client.open(`${CLONES}/base-0/etc/motd`, constants.O_WRONLY | constants.O_APPEND, 0);
  client.write(fd, "changed in clone 0\n");
  client.close(fd);
  expect(text(`${CLONES}/base-0/etc/motd`)).toBe("from layer0\nchanged in clone 0\n");
  expect(text(`${CLONES}/base-1/etc/motd`)).toBe("from layer0\n");
});
