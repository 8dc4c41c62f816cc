/**
 * @module test/services/union/readdir — the union's windowed listing: batches of any size, continued from cookies,
 * give exactly the merged set (first branch wins, whiteouts hide lower names only, `.wh.` names never shown), a window
 * whose every name is hidden still continues, and many streams read interleaved stay independent (none keeps a
 * listing).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend } from "../../../services/client-cache/backend/index.ts";
import { BranchStack } from "../../../services/union/layer.ts";
import { hasEntries, mergedBatch, nameCookie } from "../../../services/union/readdir.ts";
import { createUnionShared, UnionFileSystem } from "../../../services/union/index.ts";
import { O_DIRECTORY, O_RDONLY } from "../../conformance/harness.ts";

let base = "";
let dirs: string[] = [];
let backends: LocalBackend[] = [];

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "danaus-union-readdir-"));
  dirs = ["upper", "mid", "low"].map((name) => join(base, name));
  for (const dir of dirs) mkdirSync(join(dir, "d"), { recursive: true });
  backends = dirs.map((dir) => new LocalBackend(dir));
});
afterEach(() => {
  for (const backend of backends) backend.dispose();
  rmSync(base, { recursive: true, force: true });
});

const touch = (layer: number, name: string) => writeFileSync(join(dirs[layer]!, "d", name), "");

/** Every batch of `d` of size `size`, continued from the last cookie; checks order and that no batch repeats a name. */
function listAll(stack: BranchStack, size: number): string[] {
  const { node } = stack.resolve("d", false, "readdir");
  const names: string[] = [];
  let last = 0;
  for (;;) {
    const { entries: batch, last: final } = mergedBatch(stack, node!, last, size);
    if (final) expect(mergedBatch(stack, node!, batch.at(-1)?.next ?? last, size).entries).toEqual([]);
    if (batch.length === 0) return names;
    for (const entry of batch) {
      expect(entry.next).toBe(nameCookie(entry.name));
      expect(entry.next).toBeGreaterThan(last);
      last = entry.next;
      names.push(entry.name);
    }
  }
}

describe("windowed merged listing", () => {
  test("batches of any size give exactly the merged names, in cookie order", () => {
    const expected = new Set<string>();
    for (let i = 0; i < 300; i++) {
      touch(i % 3, `n${i}`);
      expected.add(`n${i}`);
    }
    // A name in two layers shows once; whiteouts in the upper hide mid and low names; one in mid hides only low's.
    touch(0, "n1");
    for (let i = 0; i < 300; i += 7) if (i % 3 !== 0) touch(0, `.wh.n${i}`), expected.delete(`n${i}`);
    touch(1, ".wh.n3");
    touch(0, "n3-again");
    expected.add("n3-again");
    touch(1, ".wh.from-upper");
    touch(0, "from-upper");
    expected.add("from-upper");
    const stack = new BranchStack(backends[0]!, backends.slice(1));
    for (const size of [1, 2, 7, 64, 256, 10_000]) {
      const names = listAll(stack, size);
      expect(names.length).toBe(new Set(names).size);
      expect(new Set(names)).toEqual(expected);
    }
  });

  test("a window whose every name is whited out continues past them", () => {
    // 50 lower names, all hidden by the upper, and one visible name: with 4-entry windows, the hidden ones fill many.
    for (let i = 0; i < 50; i++) touch(2, `hidden${i}`), touch(0, `.wh.hidden${i}`);
    touch(1, "visible");
    const stack = new BranchStack(backends[0]!, backends.slice(1));
    expect(listAll(stack, 4)).toEqual(["visible"]);
    expect(hasEntries(stack, stack.resolve("d", false, "readdir").node!)).toBe(true);
    rmSync(join(dirs[1]!, "d", "visible"));
    expect(hasEntries(stack, stack.resolve("d", false, "readdir").node!)).toBe(false);
  });

  test("1,000 streams of one union directory, read interleaved, each list every name once", () => {
    for (let i = 0; i < 600; i++) touch(i % 3, `f${i}`);
    const union = new UnionFileSystem({ upper: backends[0]!, lowers: backends.slice(1) }, createUnionShared({ maxDirHandles: 2048 }));
    const streams = Array.from({ length: 1000 }, () => ({ fd: union.open("d", O_RDONLY | O_DIRECTORY, 0), cookie: 0, names: [] as string[], done: false }));
    for (let open = streams.length; open > 0; ) {
      for (const stream of streams) {
        if (stream.done) continue;
        const batch = union.readdir(stream.fd, stream.cookie);
        if (batch.length === 0) {
          stream.done = true;
          open--;
          union.close(stream.fd);
          continue;
        }
        stream.names.push(...batch.map((entry) => entry.name));
        stream.cookie = batch[batch.length - 1]!.next;
      }
    }
    for (const stream of streams) {
      expect(stream.names.length).toBe(600);
      expect(new Set(stream.names).size).toBe(600);
    }
  }, 120_000);
});
