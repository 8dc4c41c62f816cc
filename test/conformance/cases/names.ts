/**
 * @module test/conformance/cases/names — file names are bytes: random names from the whole byte range (1–255 bytes,
 * 0x01–0xFF but `/`) round-trip byte for byte through every call, names differing in one byte that is not UTF-8 stay
 * two files, and NAME_MAX counts bytes. Names are byte strings (names.ts). The seed is printed; replay it with
 * NAMES_SEED=<seed>.
 */
import { describe, expect } from "bun:test";
import { escapeName, nameFromText } from "../../../kernel/ipc/protocol/index.ts";
import { expectErrno, fileType, listNames, readFile, S_IFDIR, writeFile, type Suite } from "../harness.ts";

const S_IFLNK = 0o120000;
const SEED = Number(process.env.NAMES_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ROUNDS = 24;

/** mulberry32, seeded per test so each case draws the same names for a seed. */
function random(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

/** A random name of 1–`max` bytes from 0x01–0xFF without `/` (never "." or ".."). */
function randomName(below: (n: number) => number, max = 255): string {
  for (;;) {
    const length = 1 + below(below(4) === 0 ? max : Math.min(max, 24));
    let name = "";
    for (let i = 0; i < length; i++) {
      let byte = 1 + below(255);
      if (byte === 0x2f) byte = 0xff;
      name += String.fromCharCode(byte);
    }
    if (name !== "." && name !== "..") return name;
  }
}

/** Registers the byte-name cases. */
export function nameCases({ it }: Suite): void {
  describe(`names are bytes (seed ${SEED}, replay with NAMES_SEED=${SEED})`, () => {
    it("random names: create, stat, readdir (exact bytes and count), rename, mkdir/rmdir, unlink", (fs) => {
      const below = random(SEED);
      const made = new Map<string, string>();
      for (let round = 0; round < ROUNDS; round++) {
        const name = randomName(below);
        if (made.has(name)) continue;
        const content = `file ${round}`;
        writeFile(fs, name, content);
        made.set(name, content);
        expect(fs.lstat(name).st_size).toBe(content.length);
      }
      expect(listNames(fs, "").sort()).toEqual([...made.keys()].sort());
      for (const [name, content] of made) expect(readFile(fs, name)).toBe(content);
      const renamed = new Map<string, string>();
      for (const [name, content] of made) {
        let to = randomName(below);
        while (made.has(to) || renamed.has(to)) to = randomName(below);
        fs.rename(name, to, 0);
        expectErrno("ENOENT", () => fs.lstat(name));
        renamed.set(to, content);
      }
      expect(listNames(fs, "").sort()).toEqual([...renamed.keys()].sort());
      const dir = randomName(below, 64);
      if (!renamed.has(dir)) {
        fs.mkdir(dir, 0o755);
        expect(fileType(fs.stat(dir).st_mode)).toBe(S_IFDIR);
        const inner = randomName(below, 64);
        writeFile(fs, `${dir}/${inner}`, "inner");
        expect(listNames(fs, dir)).toEqual([inner]);
        expect(readFile(fs, `${dir}/${inner}`)).toBe("inner");
        fs.unlink(`${dir}/${inner}`);
        fs.rmdir(dir);
        expectErrno("ENOENT", () => fs.lstat(dir));
      }
      for (const name of renamed.keys()) fs.unlink(name);
      expect(listNames(fs, "")).toEqual([]);
    });

    it("names differing in one byte that is not UTF-8 are two files, each with its own data; nothing is normalised", (fs) => {
      // The last pair: "ó" as one code point and as "o" + a combining accent, in UTF-8: no normalisation, two names.
      const pairs = [["c-\xff", "c-\xfe"], ["\x80", "\x81"], ["a\xc3", "a\xc3\xa9"], ["é", "\xc3\xa9"], [nameFromText("\u00f3"), nameFromText("o\u0301")]];
      for (const [a, b] of pairs) {
        writeFile(fs, a!, `first ${escapeName(a!)}`);
        writeFile(fs, b!, `second ${escapeName(b!)}`);
      }
      for (const [a, b] of pairs) {
        expect(readFile(fs, a!)).toBe(`first ${escapeName(a!)}`);
        expect(readFile(fs, b!)).toBe(`second ${escapeName(b!)}`);
      }
      expect(listNames(fs, "").length).toBe(pairs.length * 2);
    });

    it("symlinks with random-byte targets read back exactly", (fs) => {
      const below = random(SEED ^ 0x5a5a5a5a);
      for (let round = 0; round < 8; round++) {
        const target = randomName(below, 200) + "/" + randomName(below, 40);
        const link = `l${round}-\xff`;
        fs.symlink(target, link);
        expect(fs.readlink(link)).toBe(target);
        const st = fs.lstat(link);
        expect(fileType(st.st_mode)).toBe(S_IFLNK);
        expect(st.st_size).toBe(target.length);
      }
    }, ["symlinks"]);

    it("hard links under names that are not UTF-8 share their data", (fs) => {
      const below = random(SEED ^ 0x3c3c3c3c);
      const first = randomName(below, 100);
      let second = randomName(below, 100);
      while (second === first) second = randomName(below, 100);
      writeFile(fs, first, "shared");
      fs.link(first, second);
      expect(readFile(fs, second)).toBe("shared");
      expect(fs.lstat(first).st_nlink).toBe(2);
    }, ["hardLinks"]);

    it("NAME_MAX counts bytes: 255 bytes work, 256 give ENAMETOOLONG", (fs) => {
      const longest = "\xff".repeat(255);
      writeFile(fs, longest, "max");
      expect(readFile(fs, longest)).toBe("max");
      expect(listNames(fs, "")).toEqual([longest]);
      expectErrno("ENAMETOOLONG", () => writeFile(fs, "\xff".repeat(256), "too long"));
      expectErrno("ENAMETOOLONG", () => fs.mkdir("\xfe".repeat(256), 0o755));
    });
  });
}
