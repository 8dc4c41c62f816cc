/** Tests of `importImage` on a local backend: a directory and layered tars land as layers identical to their source, with a manifest; overwrites are refused. */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findTenant, ImageError, importImage, ManifestSchema, readTar, type ImageErrorKind } from "../../../kernel/images/index.ts";
import { describeTree, makeSourceTree, makeTestHost, systemTar } from "./fixture.ts";
import * as v from "valibot";

const host = makeTestHost();
afterAll(() => host.cleanup());
const src = join(host.dir, "rootfs");
mkdirSync(src);
makeSourceTree(src);
const images = join(host.backendRoot, "images");

async function expectImageError(promise: Promise<unknown>, kind: ImageErrorKind, text: string | RegExp): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ImageError);
  expect((error as ImageError).kind).toBe(kind);
  expect((error as ImageError).message).toMatch(text);
}

beforeEach(() => rmSync(images, { recursive: true, force: true }));

describe("a directory", () => {
  test("becomes layer0, the same tree: modes, owners, mtimes, symlinks, whiteouts", async () => {
    const { manifest, replaced } = await importImage(host.ref(), "rootfs", [src]);
    expect(replaced).toBe(false);
    const layer = join(images, "rootfs", "layer0");
    expect(describeTree(layer)).toEqual(describeTree(src));
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.layers[0]).toMatchObject({ path: "images/rootfs/layer0", format: "directory", source: src, files: 6, symlinks: 2, hardlinks: 1 });
    expect(manifest.layers[0]!.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
  test("keeps hard links as hard links", async () => {
    await importImage(host.ref(), "rootfs", [src]);
    const etc = join(images, "rootfs", "layer0", "etc");
    expect(lstatSync(join(etc, "hostname")).ino).toBe(lstatSync(join(etc, "hostname.bak")).ino);
    expect(lstatSync(join(etc, "hostname")).nlink).toBe(2);
  });
  test("the same tree gives the same digest", async () => {
    const a = await importImage(host.ref(), "a", [src]);
    const b = await importImage(host.ref(), "b", [src]);
    expect(a.manifest.layers[0]!.digest).toBe(b.manifest.layers[0]!.digest);
  });
});

describe("layer tars", () => {
  test("each tar is one layer, the first at the bottom; the manifest lists them top first", async () => {
    const lower = join(host.dir, "lower");
    mkdirSync(join(lower, "etc"), { recursive: true });
    writeFileSync(join(lower, "etc", "passwd"), "root:x:0:0\n");
    writeFileSync(join(lower, "etc", "hostname"), "base\n");
    systemTar(lower, "-cf", join(host.dir, "layer0.tar"), ".");
    systemTar(src, "--format=gnu", "-czf", join(host.dir, "layer1.tar.gz"), ".");
    const { manifest } = await importImage(host.ref(), "stack", [join(host.dir, "layer0.tar"), join(host.dir, "layer1.tar.gz")]);
    expect(manifest.layers.map((l) => [l.path, l.format])).toEqual([
      ["images/stack/layer1", "tar+gzip"],
      ["images/stack/layer0", "tar"],
    ]);
    expect(readFileSync(join(images, "stack", "layer0", "etc", "passwd"), "utf8")).toBe("root:x:0:0\n");
    // A tar holds whole seconds and no symlink times: compare the rest.
    expect(describeTree(join(images, "stack", "layer1"))).toEqual(describeTree(src));
    const onDisk = v.parse(ManifestSchema, JSON.parse(readFileSync(join(images, "stack", "manifest.json"), "utf8")));
    expect(onDisk).toEqual(manifest);
    expect(manifest.layers[0]!.diffId).toMatch(/^sha256:/);
    expect(manifest.layers[0]!.digest).not.toBe(manifest.layers[0]!.diffId);
  });
  test("whiteouts and opaque markers stay files of the layer", async () => {
    systemTar(src, "-cf", join(host.dir, "wh.tar"), ".");
    await importImage(host.ref(), "wh", [join(host.dir, "wh.tar")]);
    expect(lstatSync(join(images, "wh", "layer0", ".wh.gone")).isFile()).toBe(true);
    expect(lstatSync(join(images, "wh", "layer0", "opq", ".wh..wh..opq")).isFile()).toBe(true);
  });
  test("a bad tar is refused naming the entry and offset, and leaves no image behind", async () => {
    systemTar(src, "-cf", join(host.dir, "ok.tar"), ".");
    const bytes = new Uint8Array(readFileSync(join(host.dir, "ok.tar")));
    const tool = [...readTar(bytes, "ok.tar")].find((e) => e.path.endsWith("usr/bin/tool"))!;
    writeFileSync(join(host.dir, "cut.tar"), bytes.subarray(0, tool.offset + 512 + 1000));
    await expectImageError(importImage(host.ref(), "cut", [join(host.dir, "cut.tar")]), "invalid", `cut.tar: entry "./usr/bin/tool" at byte ${tool.offset}: truncated`);
    expect(readdirSync(images)).toEqual([]);
  });
  test("an entry climbing out with .. is refused", async () => {
    const evil = join(host.dir, "evil");
    mkdirSync(join(evil, "a"), { recursive: true });
    writeFileSync(join(evil, "x"), "x");
    systemTar(join(evil, "a"), "-cf", join(host.dir, "evil.tar"), "--absolute-names", "../x");
    await expectImageError(importImage(host.ref(), "evil", [join(host.dir, "evil.tar")]), "invalid", 'entry "../x" at byte 0: the path climbs out of the layer');
  });
});

describe("refusals", () => {
  test("an existing image is not overwritten without force; with force it is replaced", async () => {
    await importImage(host.ref(), "once", [src]);
    writeFileSync(join(images, "once", "layer0", "marker"), "old");
    await expectImageError(importImage(host.ref(), "once", [src]), "exists", 'tenant "t1" already has image "once" (images/once); pass --force');
    expect(existsSync(join(images, "once", "layer0", "marker"))).toBe(true);
    const { replaced } = await importImage(host.ref(), "once", [src], { force: true });
    expect(replaced).toBe(true);
    expect(existsSync(join(images, "once", "layer0", "marker"))).toBe(false);
    expect(readdirSync(images)).toEqual(["once"]);
  });
  test("a missing source, a bad name and an unknown tenant are clear errors", async () => {
    await expectImageError(importImage(host.ref(), "x", [join(host.dir, "nope.tar")]), "not-found", `${join(host.dir, "nope.tar")}: no such file or directory`);
    await expectImageError(importImage(host.ref(), "Bad/Name", [src]), "invalid", '"Bad/Name" is not an image name');
    expect(() => findTenant(host.hostFile, "nobody")).toThrow('unknown tenant "nobody"');
  });
});

describe("an overlayfs upper directory", () => {
  test.skipIf(process.getuid?.() !== 0)("its whiteouts (0:0 character devices) become .wh. files", async () => {
    const upper = join(host.dir, "overlay-upper");
    mkdirSync(upper, { recursive: true });
    writeFileSync(join(upper, "kept"), "k");
    const r = Bun.spawnSync(["mknod", join(upper, "removed"), "c", "0", "0"]);
    expect(r.exitCode).toBe(0);
    const { manifest } = await importImage(host.ref(), "ovl", [upper]);
    expect(lstatSync(join(images, "ovl", "layer0", ".wh.removed")).isFile()).toBe(true);
    expect(existsSync(join(images, "ovl", "layer0", "removed"))).toBe(false);
    expect(manifest.layers[0]!.skipped).toEqual([]);
  });
});

describe("names that are not UTF-8", () => {
  const bytesSrc = join(host.dir, "bytes-src");
  const at = (root: string, name: string) => Buffer.concat([Buffer.from(`${root}/`), Buffer.from(name, "latin1")]);
  const longName = "\xfe".repeat(150);
  mkdirSync(bytesSrc);
  writeFileSync(at(bytesSrc, "c-\xff"), "first");
  writeFileSync(at(bytesSrc, "c-\xfe"), "second");
  mkdirSync(at(bytesSrc, "d-\x80"));
  writeFileSync(at(bytesSrc, `d-\x80/${longName}`), "long");
  symlinkSync(Buffer.from("tgt-\xff\xfe", "latin1"), at(bytesSrc, "link"));

  /** The layer holds exactly those names, contents and link target (read back with Buffer paths). */
  function expectExactLayer(layer: string): void {
    const names = readdirSync(Buffer.from(layer), { encoding: "buffer" }).map((n) => n.toString("latin1")).sort();
    expect(names).toEqual(["c-\xfe", "c-\xff", "d-\x80", "link"]);
    expect(readFileSync(at(layer, "c-\xff"), "utf8")).toBe("first");
    expect(readFileSync(at(layer, "c-\xfe"), "utf8")).toBe("second");
    expect(readFileSync(at(layer, `d-\x80/${longName}`), "utf8")).toBe("long");
    expect(readlinkSync(at(layer, "link"), { encoding: "buffer" }).toString("latin1")).toBe("tgt-\xff\xfe");
  }

  test("a directory import keeps every byte", async () => {
    await importImage(host.ref(), "bytes", [bytesSrc]);
    expectExactLayer(join(images, "bytes", "layer0"));
  });
  for (const format of ["gnu", "posix"] as const) {
    test(`a ${format} tar (long names, PAX binary) keeps every byte`, async () => {
      const file = join(host.dir, `bytes-${format}.tar`);
      systemTar(bytesSrc, `--format=${format}`, "-cf", file, ".");
      await importImage(host.ref(), "bytes", [file]);
      expectExactLayer(join(images, "bytes", "layer0"));
    });
  }
});
