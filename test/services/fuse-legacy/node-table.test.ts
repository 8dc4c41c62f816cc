/** @module test/services/fuse-legacy/node-table — node ids, lookup counts, forget, unlink and rename bookkeeping. */
import { describe, expect, test } from "bun:test";
import { childPath, NodeTable } from "../../../services/fuse-legacy/server/index.ts";

describe("NodeTable", () => {
  test("the root is node 1 and never forgotten", () => {
    const table = new NodeTable();
    expect(table.path(1)).toBe("/");
    table.forget(1, 100);
    expect(table.path(1)).toBe("/");
    expect(childPath("/", "a")).toBe("/a");
    expect(childPath("/a", "b")).toBe("/a/b");
  });

  test("each reply referencing a path counts one lookup; FORGET subtracts; at zero the node goes", () => {
    const table = new NodeTable();
    const id = table.remember("/a");
    expect(table.remember("/a")).toBe(id);
    expect(table.lookups(id)).toBe(2);
    table.forget(id, 1);
    expect(table.path(id)).toBe("/a");
    table.forget(id, 1);
    expect(table.path(id)).toBeUndefined();
    expect(table.size).toBe(1);
  });

  test("ids are never reused, even after a forget", () => {
    const table = new NodeTable();
    const first = table.remember("/a");
    table.forget(first, 1);
    const second = table.remember("/a");
    expect(second).toBeGreaterThan(first);
    expect(table.path(first)).toBeUndefined();
  });

  test("unlink detaches the node; a new file at the same name gets a new id", () => {
    const table = new NodeTable();
    const old = table.remember("/f");
    table.removed("/f");
    expect(table.path(old)).toBeUndefined();
    expect(table.lookups(old)).toBe(1);
    const fresh = table.remember("/f");
    expect(fresh).not.toBe(old);
    table.forget(old, 1);
    expect(table.path(fresh)).toBe("/f");
  });

  test("rename moves a subtree and detaches a replaced target", () => {
    const table = new NodeTable();
    const dir = table.remember("/d");
    const child = table.remember("/d/x");
    const grandchild = table.remember("/d/x/y");
    const sibling = table.remember("/dd");
    const target = table.remember("/e");
    table.renamed("/d", "/e");
    expect(table.path(dir)).toBe("/e");
    expect(table.path(child)).toBe("/e/x");
    expect(table.path(grandchild)).toBe("/e/x/y");
    expect(table.path(sibling)).toBe("/dd");
    expect(table.path(target)).toBeUndefined();
    expect(table.remember("/e/x")).toBe(child);
  });

  test("exchange swaps two names and their subtrees", () => {
    const table = new NodeTable();
    const a = table.remember("/a");
    const ax = table.remember("/a/x");
    const b = table.remember("/b");
    table.exchanged("/a", "/b");
    expect(table.path(a)).toBe("/b");
    expect(table.path(ax)).toBe("/b/x");
    expect(table.path(b)).toBe("/a");
  });
});
