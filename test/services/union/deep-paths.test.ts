/**
 * @module test/services/union/deep-paths — the union over a lower holding a chain deeper than PATH_MAX: reads reach
 * its bottom, a write copies the whole chain up, a removal whites out, listings merge, at every depth.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend } from "../../../services/client-cache/backend/index.ts";
import { PATH_MAX } from "../../../kernel/ipc/protocol/index.ts";
import { createUnionShared, UnionFileSystem } from "../../../services/union/index.ts";
import { chainNames } from "../../conformance/cases/deep-paths.ts";
import { bytes, expectErrno, listNames, O_APPEND, O_WRONLY, readFile, writeFile } from "../../conformance/harness.ts";

let base: string;
let upper: LocalBackend;
let lower: LocalBackend;
let union: UnionFileSystem;
/** The chain's directories, top first, as paths from the root. */
let chain: string[];

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "danaus-union-deep-"));
  upper = new LocalBackend(join(base, "upper"));
  lower = new LocalBackend(join(base, "lower"));
  chain = [];
  for (const name of chainNames(10_000)) {
    chain.push(chain.length === 0 ? name : `${chain.at(-1)}/${name}`);
    lower.mkdir(chain.at(-1)!, 0o750);
  }
  writeFile(lower, `${chain.at(-1)}/f`, "lower bottom");
  writeFile(lower, `${chain[30]}/g`, "lower middle");
  union = new UnionFileSystem({ upper, lowers: [lower] }, createUnionShared({ maxDirHandles: 64 }));
});

afterEach(() => {
  upper.dispose();
  lower.dispose();
  rmSync(base, { recursive: true, force: true });
});

test("reads reach the bottom of a lower chain deeper than PATH_MAX", () => {
  const bottom = chain.at(-1)!;
  expect(bottom.length).toBeGreaterThan(2 * PATH_MAX);
  expect(readFile(union, `${bottom}/f`)).toBe("lower bottom");
  expect(union.stat(bottom).st_mode & 0o777).toBe(0o750);
  expect(listNames(union, chain[30]!)).toEqual([chain[31]!.slice(chain[30]!.length + 1), "g"]);
});

test("a write at the bottom copies the whole chain up; the lower is unchanged", () => {
  const bottom = chain.at(-1)!;
  const fd = union.open(`${bottom}/f`, O_WRONLY | O_APPEND, 0);
  union.write(fd, bytes(", appended"));
  union.close(fd);
  expect(readFile(union, `${bottom}/f`)).toBe("lower bottom, appended");
  expect(readFile(upper, `${bottom}/f`)).toBe("lower bottom, appended");
  expect(upper.stat(chain[20]!).st_mode & 0o777).toBe(0o750);
  expect(readFile(lower, `${bottom}/f`)).toBe("lower bottom");
  // The middle level merges the upper's copied-up directory with the lower's file.
  writeFile(union, `${chain[30]}/h`, "upper middle");
  expect(listNames(union, chain[30]!)).toEqual([chain[31]!.slice(chain[30]!.length + 1), "g", "h"]);
});

test("removing a lower file deep in the chain whites it out; rmdir of a non-empty level: ENOTEMPTY", () => {
  union.unlink(`${chain[30]}/g`);
  expectErrno("ENOENT", () => union.stat(`${chain[30]}/g`));
  expect(listNames(union, chain[30]!)).toEqual([chain[31]!.slice(chain[30]!.length + 1)]);
  expect(readFile(lower, `${chain[30]}/g`)).toBe("lower middle");
  expect(upper.lstat(`${chain[30]}/.wh.g`).st_size).toBe(0);
  expectErrno("ENOTEMPTY", () => union.rmdir(chain[40]!));
  union.unlink(`${chain.at(-1)}/f`);
  union.rmdir(chain.at(-1)!);
  expectErrno("ENOENT", () => union.stat(chain.at(-1)!));
  expect(lower.stat(chain.at(-1)!).st_mode & 0o777).toBe(0o750);
});
