/** Tests of the tar reader against archives made by the system tar: GNU and PAX long names, links, whiteouts, gzip, damage. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readTar, tarBytes, TarError, type TarEntry } from "../../../kernel/images/index.ts";
import { LONG_DIR, LONG_FILE, LONG_TARGET, makeSourceTree, systemTar } from "./fixture.ts";

const dir = mkdtempSync(join(tmpdir(), "danaus-tar-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const src = join(dir, "src");
mkdirSync(src);
makeSourceTree(src);

function entries(file: string): Map<string, TarEntry> {
  const bytes = tarBytes(new Uint8Array(readFileSync(join(dir, file))), file);
  return new Map([...readTar(bytes, file)].map((e) => [e.path.replace(/^\.\//, "").replace(/\/$/, ""), e]));
}

for (const format of ["gnu", "pax", "pax gzip"] as const) {
  describe(`a ${format} archive`, () => {
    const file = `${format.replace(" ", "-")}.tar${format.includes("gzip") ? ".gz" : ""}`;
    systemTar(src, format === "gnu" ? "--format=gnu" : "--format=posix", format.includes("gzip") ? "-czf" : "-cf", join(dir, file), ".");
    const all = entries(file);

    test("long paths come back whole", () => {
      expect(all.get(`${LONG_DIR}/${LONG_FILE}`)?.type).toBe("file");
      expect(new TextDecoder().decode(all.get(`${LONG_DIR}/${LONG_FILE}`)!.data)).toBe("long\n");
    });
    test("files keep their bytes, modes, owners and mtimes", () => {
      const tool = all.get("usr/bin/tool")!;
      expect(tool.mode).toBe(0o4755);
      expect(tool.data.length).toBe(300_000);
      expect(tool.data[1000]).toBe(1000 % 251);
      expect(tool.uid).toBe(process.getuid!());
      expect(Math.floor(tool.mtime)).toBe(Date.parse("2024-03-01T12:00:00Z") / 1000);
      expect(all.get("usr/bin")!.type).toBe("dir");
      expect(all.get("usr/bin")!.mode).toBe(0o711);
    });
    test("symlinks and hard links name their targets", () => {
      expect(all.get("usr/bin/name")).toMatchObject({ type: "symlink", linkname: "../../etc/hostname" });
      expect(all.get("long-link")).toMatchObject({ type: "symlink", linkname: LONG_TARGET });
      const links = ["etc/hostname", "etc/hostname.bak"].map((p) => all.get(p)!);
      expect(links.map((l) => l.type).sort()).toEqual(["file", "hardlink"]);
      expect(links.find((l) => l.type === "hardlink")!.linkname.replace(/^\.\//, "")).toMatch(/^etc\/hostname(\.bak)?$/);
    });
    test("whiteouts and opaque markers are ordinary empty files", () => {
      expect(all.get(".wh.gone")).toMatchObject({ type: "file" });
      expect(all.get("opq/.wh..wh..opq")).toMatchObject({ type: "file" });
      expect(all.get("opq/.wh..wh..opq")!.data.length).toBe(0);
    });
  });
}

test("a ustar archive joins prefix and name", () => {
  const ustar = join(dir, "ustar");
  const path = `${"p".repeat(80)}/${"q".repeat(60)}/${"n".repeat(60)}`; // 202 characters: prefix and name both used
  mkdirSync(join(ustar, "p".repeat(80), "q".repeat(60)), { recursive: true });
  writeFileSync(join(ustar, path), "u");
  systemTar(ustar, "--format=ustar", "-cf", join(dir, "ustar.tar"), path);
  const paths = [...readTar(new Uint8Array(readFileSync(join(dir, "ustar.tar"))), "ustar.tar")].map((e) => e.path);
  expect(paths).toEqual([path]);
});

describe("a damaged archive", () => {
  systemTar(src, "-cf", join(dir, "good.tar"), ".");
  const good = new Uint8Array(readFileSync(join(dir, "good.tar")));
  const read = (bytes: Uint8Array) => [...readTar(bytes, "x.tar")];

  test("a flipped byte in a header is a checksum error at that header's offset", () => {
    const bad = good.slice();
    const second = read(good)[1]!.offset;
    bad[second + 10] = bad[second + 10]! ^ 0x20;
    let error: unknown;
    try {
      read(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TarError);
    expect((error as TarError).offset).toBe(second);
    expect((error as TarError).message).toContain(`at byte ${second}: bad header checksum`);
  });
  test("a truncated entry names the entry and its offset", () => {
    const tool = read(good).find((e) => e.path.endsWith("usr/bin/tool"))!;
    expect(() => read(good.subarray(0, tool.offset + 512 + 1000))).toThrow(/entry ".*usr\/bin\/tool" at byte \d+: truncated: the entry says 300000 bytes/);
  });
  test("a corrupt gzip stream is an error naming the file", () => {
    const gz = Bun.gzipSync(good);
    expect(() => tarBytes(gz.subarray(0, gz.length / 2), "half.tar.gz")).toThrow("half.tar.gz: not a valid gzip stream");
  });
  test("an empty archive (two zero blocks) has no entries", () => {
    expect(read(new Uint8Array(1024))).toEqual([]);
  });
  test("a PAX record without a newline is refused", () => {
    writeFileSync(join(dir, "p"), "x");
    systemTar(dir, "--format=posix", "--pax-option=comment=hello", "-cf", join(dir, "pax.tar"), "p");
    const bytes = new Uint8Array(readFileSync(join(dir, "pax.tar")));
    expect(read(bytes).map((e) => e.path)).toEqual(["p"]);
    // Break the length of the first PAX record ("NN comment=hello\n" becomes longer than its data).
    const text = new TextDecoder().decode(bytes.subarray(512, 1024));
    const at = text.search(/\d+ comment=/);
    const damaged = bytes.slice();
    damaged[512 + at] = "9".charCodeAt(0);
    damaged[512 + at + 1] = "9".charCodeAt(0);
    expect(() => read(damaged)).toThrow(/malformed PAX record/);
  });
});

describe("names that are not UTF-8 keep their bytes (names are byte strings, see names.ts)", () => {
  const bytesSrc = join(dir, "bytes-src");
  mkdirSync(bytesSrc);
  const at = (name: string) => Buffer.concat([Buffer.from(`${bytesSrc}/`), Buffer.from(name, "latin1")]);
  const longName = "\xfe".repeat(150);
  writeFileSync(at("c-\xff"), "first");
  writeFileSync(at("c-\xfe"), "second");
  mkdirSync(at("d-\x80"));
  writeFileSync(at(`d-\x80/${longName}`), "long");
  symlinkSync(Buffer.from("tgt-\xff\xfe", "latin1"), at("link"));

  for (const format of ["gnu", "posix", "ustar"] as const) {
    test(`${format}: every name and link target exactly${format === "ustar" ? " (the long name is refused by ustar itself, so left out)" : ""}`, () => {
      const file = `bytes-${format}.tar`;
      // ustar cannot hold the 150-byte name: that directory is left out of its archive.
      systemTar(bytesSrc, `--format=${format}`, ...(format === "ustar" ? ["--exclude=./d-*"] : []), "-cf", join(dir, file), ".");
      const all = entries(file);
      expect(new TextDecoder().decode(all.get("c-\xff")!.data)).toBe("first");
      expect(new TextDecoder().decode(all.get("c-\xfe")!.data)).toBe("second");
      expect(all.get("link")!.linkname).toBe("tgt-\xff\xfe");
      if (format !== "ustar") expect(new TextDecoder().decode(all.get(`d-\x80/${longName}`)!.data)).toBe("long");
    });
  }
});
