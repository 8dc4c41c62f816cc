/**
 * Every placement of the data services the stack is built for (issue 14), each with a union mount over an image layer
 * and a direct mount: what the application sees is the same, and the log of each server says where its mounts come
 * from (a channel host) or that it serves them itself. The fully split topology has its own conformance run
 * (split-conformance.test.ts); the default is every other test's.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { constants, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DanausClient } from "../../../shims/ts/index.ts";
import { Harness } from "../harness.ts";
import { readText } from "./client-files.ts";

setDefaultTimeout(120_000);

const PLACEMENTS = [
  { topology: `[["client-cache", "union", "ipc-router"]]`, front: "[]", hosts: [] },
  { topology: `[["ipc-router"], ["union", "client-cache"]]`, front: `["client-cache"]`, hosts: ["client-cache"] },
  { topology: `[["ipc-router", "union"], ["client-cache"]]`, front: `["client-cache"]`, hosts: ["client-cache"] },
  { topology: `[["ipc-router"], ["union"], ["client-cache"]]`, front: `["client-cache","union"]`, hosts: ["client-cache", "union"] },
] as const;

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe.each(PLACEMENTS)("topology = $topology", ({ topology, front, hosts }) => {
  test("the union and direct mounts behave the same; each server says what it serves from", async () => {
    const tenant = [
      `name = "alpha"`, `cpus = [0]`, `memory = "512MiB"`, `shareCpus = true`, `topology = ${topology}`,
      `[backend]`, `kind = "local"`, `root = "backends/alpha"`,
      `[[mounts]]`, `path = "/mnt/test/u"`, `upper = "containers/u"`, `lowers = ["images/base"]`,
      `[[mounts]]`, `path = "/mnt/test/d"`, `source = "data"`,
    ].join("\n");
    h = new Harness({ tenants: { alpha: tenant } });
    const layer = join(h.dir, "state", "backends", "alpha", "images/base/etc");
    mkdirSync(layer, { recursive: true });
    writeFileSync(join(layer, "motd"), "from the image\n");
    await h.start(["alpha"]);
    const client = DanausClient.connect({ socket: join(h.dir, "state/run/alpha/router.sock") });
    try {
      expect(readText(client, "/mnt/test/u/etc/motd")).toBe("from the image\n");
      // A write copies the file up; the image layer keeps its bytes.
      const fd = client.open("/mnt/test/u/etc/motd", constants.O_WRONLY | constants.O_APPEND, 0);
      client.write(fd, "and the clone\n");
      client.close(fd);
      expect(readText(client, "/mnt/test/u/etc/motd")).toBe("from the image\nand the clone\n");
      expect(Bun.file(join(layer, "motd")).size).toBe("from the image\n".length);
      client.unlink("/mnt/test/u/etc/motd");
      expect(client.readdir("/mnt/test/u/etc")).toEqual([]);
      client.mkdir("/mnt/test/d/dir", 0o755);
      const direct = client.open("/mnt/test/d/dir/f", constants.O_CREAT | constants.O_WRONLY, 0o644);
      client.write(direct, "direct\n");
      client.close(direct);
      expect(readText(client, "/mnt/test/d/dir/f")).toBe("direct\n");
    } finally {
      client.disconnect();
    }
    const serving = (role: string) => h!.logs.find((l) => l.includes(`"${role} serving"`)) ?? "";
    expect(serving("ipc-router")).toContain(`"from":${front}`);
    for (const host of ["union", "client-cache"]) expect(serving(host) !== "").toBe((hosts as readonly string[]).includes(host));
  });
});
