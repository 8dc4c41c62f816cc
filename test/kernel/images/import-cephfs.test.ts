/** importImage onto a tenant with the cephfs backend (the project's test cluster): the layers read back through libcephfs match the source. */
import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { lstatSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { importImage, openTenantBackend, readManifest } from "../../../kernel/images/index.ts";
import { listDirectory, removeTree } from "../../../kernel/images/fs-tree.ts";
import { CephBackend, CephMount } from "../../../services/client-cache/backend/cephfs/index.ts";
import { S_IFDIR, S_IFMT, type FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import { testCephConf } from "../../ceph.ts";
import { makeSourceTree, makeTestHost, systemTar, walk } from "./fixture.ts";

const found = testCephConf("test/kernel/images/import-cephfs.test.ts");
const conf = found === null ? null : resolve(found);
const host = makeTestHost();
const root = `/danaus-test-images-${process.pid}-${randomBytes(4).toString("hex")}`;
writeFileSync(host.tenantFile, `name = "t1"\ncpus = [0]\n\n[backend]\nkind = "cephfs"\nconf = ${JSON.stringify(conf ?? "")}\nroot = ${JSON.stringify(root)}\n\n[[mounts]]\npath = "/mnt/danaus/t1/data"\nsource = "data"\n`);
const src = join(host.dir, "rootfs");
mkdirSync(src);
makeSourceTree(src);

/** type, mode, owner, size and link target (or content hash) of every path under `dir` of `fs`, as describeHost gives for the host. */
function describeBackend(fs: FileSystem, dir: string, at = ""): string[] {
  const path = at === "" ? dir : `${dir}/${at}`;
  const s = fs.lstat(path);
  const type = (s.st_mode & S_IFMT) === S_IFDIR ? "d" : (s.st_mode & S_IFMT) === 0o120000 ? "l" : "f";
  let extra = "";
  if (type === "l") extra = fs.readlink(path);
  if (type === "f") {
    const bytes = new Uint8Array(s.st_size);
    const fd = fs.open(path, 0, 0);
    for (let done = 0; done < bytes.length; ) done += fs.pread(fd, bytes.subarray(done), done);
    fs.close(fd);
    extra = String(Bun.hash(bytes));
  }
  const line = `${at || "."} ${type} ${(s.st_mode & 0o7777).toString(8)} ${s.st_uid}:${s.st_gid} ${type === "d" ? "-" : s.st_size} ${extra}`;
  if (type !== "d") return [line];
  return [line, ...listDirectory(fs, path).sort().flatMap((name) => describeBackend(fs, dir, at === "" ? name : `${at}/${name}`))];
}

function describeHost(dir: string): string[] {
  return walk(dir).map((at) => {
    const full = at === "" ? dir : join(dir, at);
    const s = lstatSync(full);
    const type = s.isDirectory() ? "d" : s.isSymbolicLink() ? "l" : "f";
    const extra = type === "l" ? readlinkSync(full) : type === "f" ? String(Bun.hash(readFileSync(full))) : "";
    // A symlink's mode is 0777 on Linux hosts; CephFS reports the same.
    return `${at || "."} ${type} ${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} ${type === "d" ? "-" : s.size} ${extra}`;
  });
}

afterAll(() => {
  if (conf !== null) {
    const mount = CephMount.open({ conf, clientId: "admin", options: { client_oc: "false" } });
    const fs = new CephBackend(mount.shared, "");
    try {
      removeTree(fs, root);
    } finally {
      fs.dispose();
      mount.close();
    }
  }
  host.cleanup();
});

describe.skipIf(conf === null)("import onto a cephfs backend", () => {
  test("a directory and a gzip tar become layers equal to the source, with a readable manifest", async () => {
    systemTar(src, "--format=posix", "-czf", join(host.dir, "top.tar.gz"), ".");
    const { manifest } = await importImage(host.ref(), "base", [src, join(host.dir, "top.tar.gz")]);
    expect(manifest.layers.map((l) => l.path)).toEqual(["images/base/layer1", "images/base/layer0"]);
    const backend = await openTenantBackend(host.ref(), "test-read");
    try {
      const expected = describeHost(src);
      expect(describeBackend(backend.fs, "/images/base/layer0")).toEqual(expected);
      expect(describeBackend(backend.fs, "/images/base/layer1")).toEqual(expected);
      const etc = "/images/base/layer0/etc";
      expect(backend.fs.lstat(`${etc}/hostname`).st_ino).toBe(backend.fs.lstat(`${etc}/hostname.bak`).st_ino);
      expect(readManifest(backend.fs, "base", "t1")).toEqual(manifest);
    } finally {
      await backend.close();
    }
  }, 60_000);
});
