/** @module test/services/fuse-legacy/node-table — node ids, lookup counts, forget, unlink and rename bookkeeping, across threads. */
import { describe, expect, test } from "bun:test";
import { childPath, NodeTable } from "../../../services/fuse-legacy/server/index.ts";
import { ERRNO, FsError } from "../../../services/ipc-router/protocol/index.ts";

const ROOT = 1;

describe("NodeTable", () => {
  test("the root is node 1 and never forgotten", () => {
    const table = new NodeTable();
    expect(table.path(ROOT)).toBe("/");
    table.forget(ROOT, 100);
    expect(table.path(ROOT)).toBe("/");
    expect(childPath("/", "a")).toBe("/a");
    expect(childPath("/a", "b")).toBe("/a/b");
  });

  test("each reply referencing a name counts one lookup; FORGET subtracts; at zero the node goes", () => {
    const table = new NodeTable();
    const id = table.remember(ROOT, "a");
    expect(table.remember(ROOT, "a")).toBe(id);
    expect(table.lookups(id)).toBe(2);
    expect(table.child(ROOT, "a")).toBe(id);
    table.forget(id, 1);
    expect(table.path(id)).toBe("/a");
    table.forget(id, 1);
    expect(table.path(id)).toBeUndefined();
    expect(table.child(ROOT, "a")).toBeUndefined();
    expect(table.size).toBe(1);
  });

  test("ids are never reused, even after a forget or when a slot is reused", () => {
    const table = new NodeTable(NodeTable.allocate(8));
    const seen = new Set<number>();
    for (let round = 0; round < 50; round++) {
      const id = table.remember(ROOT, `f${round}`);
      expect(seen.has(id)).toBe(false);
      seen.add(id);
      table.forget(id, 1);
      expect(table.path(id)).toBeUndefined();
    }
  });

  test("a full table answers ENFILE; forgetting frees room", () => {
    const table = new NodeTable(NodeTable.allocate(8));
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) ids.push(table.remember(ROOT, `n${i}`));
    expect(() => table.remember(ROOT, "more")).toThrow(FsError);
    try {
      table.remember(ROOT, "more");
    } catch (error) {
      expect((error as FsError).errno).toBe(ERRNO.ENFILE);
    }
    table.forget(ids[0]!, 1);
    expect(table.path(table.remember(ROOT, "more"))).toBe("/more");
  });

  test("names over 255 bytes are refused (ENAMETOOLONG); 255 bytes fit", () => {
    const table = new NodeTable();
    expect(table.path(table.remember(ROOT, "x".repeat(255)))).toBe(`/${"x".repeat(255)}`);
    expect(() => table.remember(ROOT, "x".repeat(256))).toThrow(FsError);
  });

  test("unlink detaches the node; a new file at the same name gets a new id", () => {
    const table = new NodeTable();
    const old = table.remember(ROOT, "f");
    table.removed(ROOT, "f");
    expect(table.path(old)).toBeUndefined();
    expect(table.lookups(old)).toBe(1);
    const fresh = table.remember(ROOT, "f");
    expect(fresh).not.toBe(old);
    table.forget(old, 1);
    expect(table.path(fresh)).toBe("/f");
  });

  test("rename moves a subtree and detaches a replaced target", () => {
    const table = new NodeTable();
    const dir = table.remember(ROOT, "d");
    const child = table.remember(dir, "x");
    const grandchild = table.remember(child, "y");
    const sibling = table.remember(ROOT, "dd");
    const target = table.remember(ROOT, "e");
    table.renamed(ROOT, "d", ROOT, "e");
    expect(table.path(dir)).toBe("/e");
    expect(table.path(child)).toBe("/e/x");
    expect(table.path(grandchild)).toBe("/e/x/y");
    expect(table.path(sibling)).toBe("/dd");
    expect(table.path(target)).toBeUndefined();
    expect(table.remember(dir, "x")).toBe(child);
    table.renamed(child, "y", ROOT, "top");
    expect(table.path(grandchild)).toBe("/top");
  });

  test("a node under a forgotten directory still resolves; the directory is freed after its last child", () => {
    const table = new NodeTable(NodeTable.allocate(8));
    const dir = table.remember(ROOT, "d");
    const file = table.remember(dir, "f");
    table.forget(dir, 1);
    expect(table.path(dir)).toBeUndefined();
    expect(table.path(file)).toBe("/d/f");
    const again = table.remember(ROOT, "d");
    expect(again).not.toBe(dir);
    expect(table.path(again)).toBe("/d");
    table.forget(again, 1);
    table.forget(file, 1);
    // Both slots are free again: six fresh names fit in the capacity-8 table (slot 0 unused, slot 1 the root).
    for (let i = 0; i < 6; i++) table.remember(ROOT, `n${i}`);
  });

  test("exchange swaps two names and their subtrees", () => {
    const table = new NodeTable();
    const a = table.remember(ROOT, "a");
    const ax = table.remember(a, "x");
    const b = table.remember(ROOT, "b");
    table.exchanged(ROOT, "a", ROOT, "b");
    expect(table.path(a)).toBe("/b");
    expect(table.path(ax)).toBe("/b/x");
    expect(table.path(b)).toBe("/a");
  });

  test("open handles of a node are remembered until released", () => {
    const table = new NodeTable();
    const id = table.remember(ROOT, "f");
    table.opened(id, 7);
    table.opened(id, 9);
    table.removed(ROOT, "f");
    expect(table.openHandle(id)).toBe(7);
    table.released(id, 7);
    expect(table.openHandle(id)).toBe(9);
    table.released(id, 9);
    expect(table.openHandle(id)).toBeUndefined();
  });

  test("many churned names keep the index consistent (tombstones are rebuilt)", () => {
    const table = new NodeTable(NodeTable.allocate(64));
    const live = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const name = `n${i % 97}`;
      const known = live.get(name);
      if (known !== undefined && i % 3 === 0) {
        table.forget(known, table.lookups(known));
        live.delete(name);
      } else if (known !== undefined && i % 3 === 1) {
        const to = `m${i}`;
        if (live.size < 60) {
          table.renamed(ROOT, name, ROOT, to);
          live.delete(name);
          live.set(to, known);
        }
      } else if (known === undefined && live.size < 60) {
        live.set(name, table.remember(ROOT, name));
      }
    }
    for (const [name, id] of live) {
      expect(table.path(id)).toBe(`/${name}`);
      expect(table.child(ROOT, name)).toBe(id);
    }
    expect(table.size).toBe(live.size + 1);
  });

  test("several Workers sharing one table agree on ids and counts", async () => {
    const shared = NodeTable.allocate(1024);
    const workers = 4;
    const rounds = 2000;
    const done = await Promise.all(
      Array.from({ length: workers }, (_, index) => {
        const worker = new Worker(new URL("./fixtures/node-table-worker.ts", import.meta.url).href);
        return new Promise<number[]>((resolve, reject) => {
          worker.onmessage = (event: MessageEvent<number[]>) => {
            worker.terminate();
            resolve(event.data);
          };
          worker.onerror = (event) => reject(new Error(event.message));
          worker.postMessage({ shared, index, rounds });
        });
      }),
    );
    const table = new NodeTable(shared);
    // Every Worker remembered "common/shared" once per round without forgetting: one node, all the counts. "common"
    // itself was forgotten as often as remembered, so it is kept only as the parent of "shared".
    const id = done[0]![0]!;
    expect(done.every((ids) => ids.length === rounds && ids.every((seen) => seen === id))).toBe(true);
    expect(table.lookups(id)).toBe(workers * rounds);
    expect(table.path(id)).toBe("/common/shared");
    expect(table.child(ROOT, "common")).toBeUndefined();
    // Their private names were remembered and forgotten: only the root and "shared" are held.
    expect(table.size).toBe(2);
  });
});
