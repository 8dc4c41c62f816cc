/**
 * A union mount served by a real tenant service: the container sees its image's lower layer through the shared-memory
 * client, its writes copy up into its private upper, its deletions become whiteouts there, and the image layer on
 * the backend never changes. A second clone over the same image sees the image, not the first clone's changes.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { constants, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FsError } from "../../../kernel/ipc/protocol/index.ts";
import { DanausClient } from "../../../shims/ts/client.ts";
import { Harness } from "../harness.ts";

setDefaultTimeout(60_000);
let h: Harness;
let client: DanausClient;
let backend: string;

const tenant = [
  `name = "alpha"`,
  `cpus = [0]`,
  `memory = "384MiB"`,
  `shareCpus = true`,
  `[backend]`,
  `kind = "local"`,
  `root = "backends/alpha"`,
  ...[1, 2].flatMap((i) => [`[[mounts]]`, `path = "/mnt/test/c${i}"`, `upper = "containers/c${i}/upper"`, `lowers = ["images/base/layer1", "images/base/layer0"]`]),
  `[[mounts]]`,
  `path = "/mnt/test/broken"`,
  `upper = "containers/broken/upper"`,
  `lowers = ["images/absent/layer0"]`,
].join("\n");

function text(path: string): string {
  const fd = client.open(path, constants.O_RDONLY, 0);
  try {
    const buffer = new Uint8Array(4096);
    return new TextDecoder().decode(buffer.subarray(0, client.pread(fd, buffer, 0)));
  } finally {
    client.close(fd);
  }
}

function write(path: string, data: string, flags = constants.O_WRONLY | constants.O_APPEND): void {
  const fd = client.open(path, flags, 0o644);
  client.write(fd, data);
  client.close(fd);
}

beforeAll(async () => {
  h = new Harness({ tenants: { alpha: tenant } });
  backend = join(h.dir, "state", "backends", "alpha");
  // The image: layer0 (bottom) and layer1, which whites out one of layer0's files.
  mkdirSync(join(backend, "images/base/layer0/etc"), { recursive: true });
  mkdirSync(join(backend, "images/base/layer1/etc"), { recursive: true });
  writeFileSync(join(backend, "images/base/layer0/etc/motd"), "from layer0\n");
  writeFileSync(join(backend, "images/base/layer0/etc/hidden"), "whited out by layer1\n");
  writeFileSync(join(backend, "images/base/layer1/etc/.wh.hidden"), "");
  writeFileSync(join(backend, "images/base/layer1/etc/issue"), "from layer1\n");
  await h.start(["alpha"]);
  client = DanausClient.connect({ socket: join(h.dir, "state/run/alpha/router.sock") });
}, 60_000);
afterAll(async () => {
  client?.disconnect();
  await h?.stop();
}, 60_000);

test("a clone sees the merged image; writes copy up, deletions white out, the image never changes", () => {
  expect(text("/mnt/test/c1/etc/motd")).toBe("from layer0\n");
  expect(text("/mnt/test/c1/etc/issue")).toBe("from layer1\n");
  expect(() => client.stat("/mnt/test/c1/etc/hidden")).toThrow(FsError);

  write("/mnt/test/c1/etc/motd", "changed in c1\n");
  expect(text("/mnt/test/c1/etc/motd")).toBe("from layer0\nchanged in c1\n");
  client.unlink("/mnt/test/c1/etc/issue");
  expect(() => client.stat("/mnt/test/c1/etc/issue")).toThrow(FsError);
  write("/mnt/test/c1/new", "only in c1\n", constants.O_CREAT | constants.O_WRONLY);

  // On the backend: the image is untouched; c1's upper holds the copy, the whiteout and the new file.
  expect(readFileSync(join(backend, "images/base/layer0/etc/motd"), "utf8")).toBe("from layer0\n");
  expect(readFileSync(join(backend, "images/base/layer1/etc/issue"), "utf8")).toBe("from layer1\n");
  const upper = join(backend, "containers/c1/upper");
  expect(readFileSync(join(upper, "etc/motd"), "utf8")).toBe("from layer0\nchanged in c1\n");
  expect(existsSync(join(upper, "etc/.wh.issue"))).toBe(true);
  expect(readdirSync(join(upper, "etc")).filter((n) => n.startsWith(".wh.") && n !== ".wh.issue")).toEqual([]);

  // The second clone sees the image as it was.
  expect(text("/mnt/test/c2/etc/motd")).toBe("from layer0\n");
  expect(text("/mnt/test/c2/etc/issue")).toBe("from layer1\n");
  expect(() => client.stat("/mnt/test/c2/new")).toThrow(FsError);
});

test("a union mount whose image is missing is not served, and says why in the log", () => {
  expect(() => client.stat("/mnt/test/broken")).toThrow(FsError);
  expect(h.logs.some((line) => line.includes("lower branches missing") && line.includes("images/absent/layer0"))).toBe(true);
});
