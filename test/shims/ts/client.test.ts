/** DanausClient over a real router: private descriptors, client-side offsets, O_APPEND, mounts, cwd and errors. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { constants, readFileSync } from "node:fs";
import { join } from "node:path";
import { DanausClient, FsError } from "../../../shims/ts/index.ts";
import { startTestRouter, type TestRouter } from "../../services/ipc-router/router-harness.ts";

const { O_APPEND, O_CREAT, O_RDONLY, O_RDWR, O_WRONLY } = constants;
let router: TestRouter;
let client: DanausClient;

beforeAll(async () => {
  router = await startTestRouter({ mounts: 2 });
  client = DanausClient.connect({ socket: router.socket, cwd: "/m0" });
}, 30_000);
afterAll(async () => {
  client?.disconnect();
  await router?.stop();
}, 30_000);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof FsError) return error.code;
    throw error;
  }
  throw new Error("expected an FsError");
}

describe("DanausClient", () => {
  test("lists the tenant's mounts", () => {
    expect(client.mounts().map((m) => m.path)).toEqual(["/m0", "/m1"]);
  });

  test("private descriptors are far above kernel descriptors and distinct", () => {
    const a = client.open("/m0/a", O_CREAT | O_RDWR, 0o644);
    const b = client.open("/m0/a", O_RDONLY);
    expect(a).toBeGreaterThanOrEqual(1 << 20);
    expect(b).not.toBe(a);
    client.close(a);
    client.close(b);
    expect(code(() => client.close(a))).toBe("EBADF");
  });

  test("read and write advance a client-side offset; pread/pwrite do not; lseek SET/CUR/END", () => {
    const fd = client.open("/m0/offsets", O_CREAT | O_RDWR, 0o644);
    expect(client.write(fd, "hello ")).toBe(6);
    expect(client.write(fd, "world")).toBe(5);
    expect(client.lseek(fd, 0, 1)).toBe(11);
    expect(client.pwrite(fd, new TextEncoder().encode("HELLO"), 0)).toBe(5);
    expect(client.lseek(fd, 0, 1)).toBe(11);
    expect(client.lseek(fd, -5, 2)).toBe(6);
    const buf = new Uint8Array(5);
    expect(client.read(fd, buf)).toBe(5);
    expect(new TextDecoder().decode(buf)).toBe("world");
    expect(client.read(fd, buf)).toBe(0);
    expect(client.lseek(fd, 0, 0)).toBe(0);
    expect(client.read(fd, buf, 0, 5)).toBe(5);
    expect(new TextDecoder().decode(buf)).toBe("HELLO");
    expect(code(() => client.lseek(fd, -100, 1))).toBe("EINVAL");
    expect(code(() => client.lseek(fd, 0, 9))).toBe("EINVAL");
    client.close(fd);
    expect(readFileSync(join(router.backendRoot, "m0", "offsets"), "utf8")).toBe("HELLO world");
  });

  test("O_APPEND writes at the end whatever the position", () => {
    const fd = client.open("/m0/log", O_CREAT | O_WRONLY | O_APPEND, 0o644);
    client.write(fd, "one\n");
    client.lseek(fd, 0, 0);
    client.write(fd, "two\n");
    client.close(fd);
    expect(readFileSync(join(router.backendRoot, "m0", "log"), "utf8")).toBe("one\ntwo\n");
  });

  test("reads and writes larger than the request buffer are split transparently", () => {
    const big = new Uint8Array(3 * 1024 * 1024 + 123).map((_, i) => (i * 31) & 0xff);
    const fd = client.open("/m0/big", O_CREAT | O_RDWR, 0o644);
    expect(client.write(fd, big)).toBe(big.length);
    const back = new Uint8Array(big.length);
    expect(client.pread(fd, back, 0)).toBe(big.length);
    expect(back).toEqual(big);
    client.close(fd);
  });

  test("relative paths resolve against the client's cwd; chdir needs a directory", () => {
    client.mkdir("/m0/dir");
    client.chdir("dir");
    expect(client.getcwd()).toBe("/m0/dir");
    client.close(client.open("rel", O_CREAT | O_WRONLY, 0o644));
    expect(client.stat("/m0/dir/rel").st_size).toBe(0);
    expect(client.readdir(".").map((d) => d.name)).toEqual(["rel"]);
    expect(code(() => client.chdir("/m0/dir/rel"))).toBe("ENOTDIR");
    client.chdir("/m0");
  });

  test("one argument of PATH_MAX bytes or more: ENAMETOOLONG, as the kernel answers; from a deep cwd, short relative paths go deeper", () => {
    const name = (i: number) => `${i}`.padStart(200, "d");
    expect(code(() => client.stat(`/m0/${"x/".repeat(2046)}`))).toBe("ENAMETOOLONG");
    expect(code(() => client.mkdir(`/m0/${"x".repeat(4090)}/y`))).toBe("ENAMETOOLONG");
    expect(code(() => client.symlink("t".repeat(4096), "/m0/link"))).toBe("ENAMETOOLONG");
    client.mkdir("/m0/deep");
    client.chdir("/m0/deep");
    for (let i = 0; i < 40; i++) {
      client.mkdir(name(i));
      client.chdir(name(i));
    }
    expect(client.getcwd().length).toBe("/m0/deep".length + 40 * 201);
    client.close(client.open("f", O_CREAT | O_WRONLY, 0o644));
    expect(client.readdir(".").map((d) => d.name)).toEqual(["f"]);
    client.rename("f", `../${"../".repeat(19)}g`);
    expect(client.readdir("../".repeat(20)).map((d) => d.name).sort()).toEqual([name(20), "g"]);
    client.unlink(`${"../".repeat(20)}g`);
    for (let i = 39; i >= 0; i--) {
      client.chdir("..");
      client.rmdir(name(i));
    }
    expect(client.getcwd()).toBe("/m0/deep");
    client.chdir("/m0");
    client.rmdir("deep");
  });

  test("a path outside every mount is refused with ENOENT and a message naming the mounts", () => {
    let caught: unknown;
    try {
      client.stat("/etc/passwd");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FsError);
    expect((caught as FsError).code).toBe("ENOENT");
    expect((caught as FsError).message).toContain("not under any danaus mount");
    expect((caught as FsError).message).toContain("/m0");
    expect(code(() => client.stat("/m0/" + "../".repeat(8) + "etc/passwd"))).toBe("ENOENT");
  });

  test("rename and link across mounts: EXDEV", () => {
    client.close(client.open("/m0/x", O_CREAT | O_WRONLY, 0o644));
    expect(code(() => client.rename("/m0/x", "/m1/x"))).toBe("EXDEV");
    expect(code(() => client.link("/m0/x", "/m1/x"))).toBe("EXDEV");
  });

  test("errors carry the errno name as code, like node:fs", () => {
    expect(code(() => client.open("/m0/missing"))).toBe("ENOENT");
    expect(code(() => client.mkdir("/m0/dir"))).toBe("EEXIST");
    expect(code(() => client.rmdir("/m0"))).toBe("EBUSY");
  });
});
