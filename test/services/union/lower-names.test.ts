/** @module test/services/union/lower-names — a lower directory, once listed, answers absent names without a lookup; bounded. */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend } from "../../../services/client-cache/backend/index.ts";
import { createUnionShared, UnionFileSystem } from "../../../services/union/index.ts";
import { DIR_NAMES, LowerNames, TOTAL_NAMES } from "../../../services/union/lower-names.ts";
import { expectErrno, O_CREAT, O_EXCL, O_WRONLY, readFile } from "../../conformance/harness.ts";

let base: string;
const backends: LocalBackend[] = [];

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "danaus-lower-names-"));
  for (const dir of ["upper", "lower"]) mkdirSync(join(base, dir));
});

afterEach(() => {
  for (const backend of backends.splice(0)) backend.dispose();
  rmSync(base, { recursive: true, force: true });
});

/** A union over the lower as built on disk, with the lower's lstat and readdir calls counted, and every call on the upper. */
function union(): { fs: UnionFileSystem; lstats: string[]; readdirs: () => number; upperCalls: string[] } {
  const upper = new LocalBackend(join(base, "upper"));
  const lower = new LocalBackend(join(base, "lower"));
  backends.push(upper, lower);
  const lstats: string[] = [];
  const upperCalls: string[] = [];
  let readdirs = 0;
  const counted = new Proxy(lower, {
    get(target, prop) {
      if (prop === "lstat") return (path: string) => (lstats.push(path), target.lstat(path));
      if (prop === "readdir") return (fd: number, cookie: number, max?: number) => (readdirs++, target.readdir(fd, cookie, max));
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const recorded = new Proxy(upper, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => (upperCalls.push(`${String(prop)} ${typeof args[0] === "string" ? args[0] : ""}`.trim()), (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return { fs: new UnionFileSystem({ upper: recorded, lowers: [counted] }, createUnionShared({ maxDirHandles: 8 })), lstats, readdirs: () => readdirs, upperCalls };
}

/** Creates, stats and removes `name` in the union. */
function churn(fs: UnionFileSystem, name: string): void {
  fs.close(fs.open(name, O_CREAT | O_WRONLY, 0o644));
  fs.stat(name);
  fs.unlink(name);
}

test("creating and removing new names in a merged directory asks the lower once, then answers from its listing", () => {
  mkdirSync(join(base, "lower", "etc"));
  writeFileSync(join(base, "lower", "etc", "hosts"), "lower hosts");
  const { fs, lstats } = union();
  for (let n = 0; n < 50; n++) churn(fs, `etc/new-${n}`);
  // The first missing name is looked up and lists etc; every later one is answered from the listing.
  expect(lstats.filter((path) => path.startsWith("etc/new-"))).toEqual(["etc/new-0"]);
  // A name the listing holds is still looked up, with its attributes and data from the lower.
  expect(readFile(fs, "etc/hosts")).toBe("lower hosts");
  expect(lstats).toContain("etc/hosts");
  // Its removal whites it out, and its name can be made again in the upper.
  fs.unlink("etc/hosts");
  expectErrno("ENOENT", () => fs.stat("etc/hosts"));
  churn(fs, "etc/hosts");
  expectErrno("ENOENT", () => fs.stat("etc/hosts"));
});

test("a directory the lower does not have holds no name of it; a name in a listed directory may be there", () => {
  mkdirSync(join(base, "lower", "etc"));
  writeFileSync(join(base, "lower", "etc", "hosts"), "");
  const lower = new LocalBackend(join(base, "lower"));
  backends.push(lower);
  const names = new LowerNames([lower, lower]);
  expect(names.mayHold(1, "gone/a")).toBe(true);
  names.missed(1, "gone/a");
  expect(names.mayHold(1, "gone/b")).toBe(false);
  names.missed(1, "etc/a");
  expect([names.mayHold(1, "etc/hosts"), names.mayHold(1, "etc/a"), names.mayHold(1, "other/a")]).toEqual([true, false, true]);
});

test(`a directory of more than ${DIR_NAMES} names is not kept: its lookups go to the lower`, () => {
  mkdirSync(join(base, "lower", "big"));
  for (let n = 0; n <= DIR_NAMES; n++) writeFileSync(join(base, "lower", "big", `e-${n}`), "");
  const { fs, lstats, readdirs } = union();
  for (let n = 0; n < 10; n++) churn(fs, `big/new-${n}`);
  // Two lookups per name: the create's and the unlink's.
  expect(lstats.filter((path) => path.startsWith("big/new-")).length).toBe(20);
  // Listed once only, found too big, and not listed again on each missing name.
  const listed = readdirs();
  churn(fs, "big/new-again");
  expect(readdirs()).toBe(listed);
  expect(readFile(fs, `big/e-${DIR_NAMES}`)).toBe("");
});

test(`past ${TOTAL_NAMES} names the least recently used directory is dropped, and looked up again when needed`, () => {
  const per = DIR_NAMES;
  const dirs = Math.ceil(TOTAL_NAMES / per) + 1;
  for (let d = 0; d < dirs; d++) {
    mkdirSync(join(base, "lower", `d${d}`));
    for (let n = 0; n < per; n++) writeFileSync(join(base, "lower", `d${d}`, `e-${n}`), "");
  }
  const { fs, lstats } = union();
  for (let d = 0; d < dirs; d++) churn(fs, `d${d}/new`);
  // d0 was dropped to make room: its next missing name is looked up again; the newest directory still answers.
  lstats.length = 0;
  churn(fs, `d${dirs - 1}/other`);
  expect(lstats.filter((path) => path.endsWith("/other"))).toEqual([]);
  churn(fs, "d0/other");
  expect(lstats.filter((path) => path.endsWith("/other"))).toEqual(["d0/other"]);
});

test("once a directory is listed, a create, stat and unlink of a new name are one call each on the upper for the name; anything else takes the full lookup", () => {
  mkdirSync(join(base, "lower", "etc"));
  writeFileSync(join(base, "lower", "etc", "hosts"), "lower hosts");
  mkdirSync(join(base, "upper", "etc"));
  mkdirSync(join(base, "upper", "etc", "sub"));
  const { fs, upperCalls } = union();
  churn(fs, "etc/first");
  upperCalls.length = 0;
  churn(fs, "etc/second");
  // Besides the walk to the directory (its lookup and its opaque marker's, on every call):
  const walk = ["lstat etc", "lstat etc/.wh..wh..opq"];
  expect(upperCalls).toEqual([...walk, "open etc/second", "close", ...walk, "lstat etc/second", ...walk, "unlink etc/second"]);
  // A name the upper holds as a symlink is followed as the union follows it (at the union root), not by the upper.
  fs.symlink("/etc/target", "etc/link");
  fs.close(fs.open("etc/link", O_CREAT | O_WRONLY, 0o644));
  expect(fs.lstat("etc/target").st_size).toBe(0);
  expectErrno("EEXIST", () => fs.open("etc/link", O_CREAT | O_EXCL | O_WRONLY, 0o644));
  // A directory: EISDIR for a create and an unlink, as through the full lookup; a name in the lower is the lower's.
  expectErrno("EISDIR", () => fs.open("etc/sub", O_CREAT | O_WRONLY, 0o644));
  expectErrno("EISDIR", () => fs.unlink("etc/sub"));
  expectErrno("ENOENT", () => fs.unlink("etc/missing"));
  expect(readFile(fs, "etc/hosts")).toBe("lower hosts");
  fs.close(fs.open("etc/hosts", O_CREAT | O_WRONLY, 0o644));
  expect(readFile(fs, "etc/hosts")).toBe("lower hosts");
});
