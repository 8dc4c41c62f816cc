/**
 * @module test/services/fuse-legacy/node-table — node ids, lookup counts, forget, unlink and rename bookkeeping, hard
 * links as one node, across threads, and name changes told by path (made through the user-level path).
 */
import { describe, expect, test } from "bun:test";
import { childPath, NodeTable, pathNames } from "../../../services/fuse-legacy/server/index.ts";
import { ERRNO, FsError, S_IFDIR, S_IFLNK, S_IFREG } from "../../../kernel/ipc/protocol/index.ts";

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

  test("child answers a node of the type asked for only", () => {
    const table = new NodeTable();
    const file = table.remember(ROOT, "f", { st_dev: 7, st_ino: 10, st_mode: S_IFREG | 0o644 });
    const dir = table.remember(ROOT, "d", { st_dev: 7, st_ino: 11, st_mode: S_IFDIR | 0o755 });
    expect(table.child(ROOT, "f", S_IFREG)).toBe(file);
    expect(table.child(ROOT, "d", S_IFREG)).toBeUndefined();
    expect(table.child(ROOT, "d", S_IFDIR)).toBe(dir);
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

  describe("hard links: every name of one file is one node", () => {
    const file = (ino: number, dev = 7) => ({ st_dev: dev, st_ino: ino, st_mode: S_IFREG | 0o644 });
    const dir = (ino: number) => ({ st_dev: 7, st_ino: ino, st_mode: S_IFDIR | 0o755 });

    test("a second name of a known inode answers the same node id and counts one more lookup on it", () => {
      const table = new NodeTable();
      const d = table.remember(ROOT, "d", dir(2));
      const a = table.remember(ROOT, "a", file(10));
      expect(table.remember(d, "b", file(10))).toBe(a);
      expect(table.child(d, "b")).toBe(a);
      expect(table.lookups(a)).toBe(2);
      expect(table.size).toBe(3);
      // Same inode number on another device is another file.
      expect(table.remember(ROOT, "c", file(10, 8))).not.toBe(a);
    });

    test("unlinking the first name leaves the node resolving through another; the last name gone, no path", () => {
      const table = new NodeTable();
      const a = table.remember(ROOT, "a", file(10));
      table.remember(ROOT, "b", file(10));
      table.remember(ROOT, "c", file(10));
      table.removed(ROOT, "a");
      expect(["/b", "/c"]).toContain(table.path(a)!);
      table.removed(ROOT, "b");
      expect(table.path(a)).toBe("/c");
      // A name added while the first is gone joins the node still.
      expect(table.remember(ROOT, "e", file(10))).toBe(a);
      table.removed(ROOT, "c");
      expect(table.path(a)).toBe("/e");
      table.removed(ROOT, "e");
      expect(table.path(a)).toBeUndefined();
      expect(table.lookups(a)).toBe(4);
      // No name left: the inode number may be reused by a new file, which is a new node.
      const fresh = table.remember(ROOT, "a", file(10));
      expect(fresh).not.toBe(a);
      table.forget(a, 4);
      expect(table.path(fresh)).toBe("/a");
    });

    test("rename of one name keeps the others; rename over a name leaves only that name; rename between two names of one file does nothing", () => {
      const table = new NodeTable();
      const a = table.remember(ROOT, "a", file(10));
      table.remember(ROOT, "b", file(10));
      const other = table.remember(ROOT, "o", file(11));
      table.renamed(ROOT, "a", ROOT, "z");
      expect(table.child(ROOT, "z")).toBe(a);
      expect(table.child(ROOT, "b")).toBe(a);
      table.renamed(ROOT, "o", ROOT, "z");
      expect(table.child(ROOT, "z")).toBe(other);
      expect(table.path(a)).toBe("/b");
      table.remember(ROOT, "c", file(10));
      expect(table.renamed(ROOT, "b", ROOT, "c")).toBe(true);
      expect(table.child(ROOT, "b")).toBe(a);
      expect(table.child(ROOT, "c")).toBe(a);
    });

    test("a LOOKUP of the new name between a rename and its table update joins the moving node; once told the old name is gone, the node resolves by the new one", () => {
      const table = new NodeTable();
      const moving = table.remember(ROOT, "t2", file(20));
      const replaced = table.remember(ROOT, "winner", file(21));
      // The backend renamed t2 over winner; a revalidating LOOKUP of winner sees t2's file before the RENAME's update.
      expect(table.remember(ROOT, "winner", file(20))).toBe(moving);
      expect(table.path(replaced)).toBeUndefined();
      // The update finds one node under both names: it keeps both and says so; the session finds t2 gone and tells it.
      expect(table.renamed(ROOT, "t2", ROOT, "winner")).toBe(true);
      table.removed(ROOT, "t2");
      expect(table.path(moving)).toBe("/winner");
      expect(table.child(ROOT, "t2")).toBeUndefined();
      expect(table.renamed(ROOT, "winner", ROOT, "w2")).toBe(false);
      expect(table.path(moving)).toBe("/w2");
    });

    test("the last FORGET frees the node and all its names; the table's room comes back", () => {
      const table = new NodeTable(NodeTable.allocate(8));
      const a = table.remember(ROOT, "a", file(10));
      for (const name of ["b", "c", "d", "e", "f"]) expect(table.remember(ROOT, name, file(10))).toBe(a);
      expect(() => table.remember(ROOT, "g", file(11))).toThrow(FsError);
      table.forget(a, 6);
      expect(table.path(a)).toBeUndefined();
      expect(table.child(ROOT, "c")).toBeUndefined();
      expect(table.size).toBe(1);
      const ids = new Set<number>();
      for (const name of ["a", "b", "c", "d", "e", "f"]) ids.add(table.remember(ROOT, name, file(20 + name.charCodeAt(0))));
      expect(ids.size).toBe(6);
      expect(ids.has(a)).toBe(false);
    });

    test("a name whose file got a new inode (union copy-up) keeps its node; one whose inode is another node's joins that node", () => {
      const table = new NodeTable();
      const a = table.remember(ROOT, "a", file(10));
      expect(table.remember(ROOT, "a", file(99, 9))).toBe(a);
      expect(table.remember(ROOT, "a2", file(99, 9))).toBe(a);
      // "b" was one file, now names the inode "a" has (replaced outside the kernel path): it takes a's node.
      const b = table.remember(ROOT, "b", file(50));
      expect(table.remember(ROOT, "b", file(99, 9))).toBe(a);
      expect(table.path(b)).toBeUndefined();
      // Another type under the same name is another node.
      const c = table.remember(ROOT, "c", file(60));
      expect(table.remember(ROOT, "c", { st_dev: 7, st_ino: 60, st_mode: S_IFDIR | 0o755 })).not.toBe(c);
    });

    test("a regular file of several names that gets a new inode (a union copy-up) keeps its node with all its names", () => {
      const table = new NodeTable();
      const a = table.remember(ROOT, "a", file(10));
      expect(table.remember(ROOT, "b", file(10))).toBe(a);
      // Seen through a lookup of one name: the node follows, and the other name is still its name.
      expect(table.remember(ROOT, "a", file(77, 9))).toBe(a);
      expect(table.remember(ROOT, "b", file(77, 9))).toBe(a);
      expect(table.nodeOfInode(9, 77)).toBe(a);
      expect(table.nodeOfInode(7, 10)).toBeUndefined();
      // Seen through an answer of the node itself (GETATTR, SETATTR, an open for writing): the same.
      table.followed(a, file(78, 9));
      expect(table.remember(ROOT, "b", file(78, 9))).toBe(a);
      expect(table.nodeOfInode(9, 78)).toBe(a);
      // An inode another node has already is not taken from it.
      const c = table.remember(ROOT, "c", file(90));
      table.followed(a, file(90));
      expect(table.nodeOfInode(7, 90)).toBe(c);
      expect(table.nodeOfInode(9, 78)).toBe(a);
    });

    test("a symlink of several names that gets a new inode leaves the node, which keeps its other names", () => {
      const table = new NodeTable();
      const link = (ino: number, dev = 7) => ({ st_dev: dev, st_ino: ino, st_mode: S_IFLNK | 0o777 });
      const a = table.remember(ROOT, "a", link(10));
      table.remember(ROOT, "b", link(10));
      // The union copies a symlink up name by name: the copied name is another file now.
      const copied = table.remember(ROOT, "a", link(77, 9));
      expect(copied).not.toBe(a);
      expect(table.path(a)).toBe("/b");
      expect(table.path(copied)).toBe("/a");
      table.followed(a, link(78, 9));
      expect(table.nodeOfInode(7, 10)).toBe(a);
    });

    test("directories are known by name, never joined by inode, and keep their node when their inode changes", () => {
      const table = new NodeTable();
      const d = table.remember(ROOT, "d", dir(5));
      expect(table.remember(ROOT, "e", dir(5))).not.toBe(d);
      const x = table.remember(d, "x", file(6));
      expect(table.remember(ROOT, "d", dir(500))).toBe(d);
      expect(table.path(x)).toBe("/d/x");
    });

    test("random links, unlinks, renames and forgets agree with a model of the files", () => {
      for (const seed of [1, 2, 3]) {
        let state = seed;
        const random = (n: number) => {
          state = (Math.imul(state, 1103515245) + 12345) >>> 0;
          return (state >>> 8) % n;
        };
        const table = new NodeTable(NodeTable.allocate(64));
        // The model: name → inode; inode → node id with its lookups.
        const names = new Map<string, number>();
        const nodes = new Map<number, { id: number; lookups: number }>();
        let nextIno = 100;
        for (let step = 0; step < 3000; step++) {
          const existing = [...names.keys()];
          const pick = existing[random(Math.max(1, existing.length))];
          const op = random(5);
          if (op === 0 && names.size < 40) {
            const name = `n${random(60)}`;
            if (names.has(name)) continue;
            const ino = pick !== undefined && random(2) === 0 ? names.get(pick)! : nextIno++;
            const id = table.remember(ROOT, name, file(ino));
            const node = nodes.get(ino);
            if (node !== undefined) {
              expect(id).toBe(node.id);
              node.lookups++;
            } else nodes.set(ino, { id, lookups: 1 });
            names.set(name, ino);
          } else if (op === 1 && pick !== undefined) {
            table.removed(ROOT, pick);
            names.delete(pick);
          } else if (op === 2 && pick !== undefined) {
            const to = `n${random(60)}`;
            const ino = names.get(pick)!;
            if (names.get(to) === ino) continue;
            table.renamed(ROOT, pick, ROOT, to);
            names.delete(pick);
            names.set(to, ino);
          } else if (op === 3 && pick !== undefined) {
            const ino = names.get(pick)!;
            const node = nodes.get(ino)!;
            table.forget(node.id, node.lookups);
            nodes.delete(ino);
            for (const [name, of] of names) if (of === ino) names.delete(name);
          }
          // Nodes whose names are all gone are forgotten by the kernel in the end: do it now, as the model says.
          for (const [ino, node] of nodes) {
            if ([...names.values()].includes(ino)) continue;
            expect(table.path(node.id)).toBeUndefined();
            table.forget(node.id, node.lookups);
            nodes.delete(ino);
          }
          for (const [name, ino] of names) expect(table.child(ROOT, name)).toBe(nodes.get(ino)!.id);
          for (const [ino, node] of nodes) {
            expect(names.get(table.path(node.id)!.slice(1))).toBe(ino);
            expect(table.lookups(node.id)).toBe(node.lookups);
          }
          expect(table.size).toBe(nodes.size + 1);
        }
      }
    });
  });

  describe("name changes told by path and file (made without the kernel)", () => {
    const file = (ino: number) => ({ st_dev: 7, st_ino: ino, st_mode: S_IFREG | 0o644 });
    const dir = (ino: number) => ({ st_dev: 7, st_ino: ino, st_mode: S_IFDIR | 0o755 });

    test("paths split into names lexically, byte for byte", () => {
      expect(pathNames("/")).toEqual([]);
      expect(pathNames("//a/./b\xff//")).toEqual(["a", "b\xff"]);
      expect(pathNames("/a/../b\x80")).toEqual(["b\x80"]);
    });

    test("a directory is found by its path; a file, an unknown or a forgotten name is not", () => {
      const table = new NodeTable();
      const d = table.remember(ROOT, "d\xfe", dir(2));
      const e = table.remember(d, "e", dir(3));
      table.remember(e, "f", file(4));
      expect(table.directory([])).toBe(ROOT);
      expect(table.directory(["d\xfe"])).toBe(d);
      expect(table.directory(["d\xfe", "e"])).toBe(e);
      expect(table.directory(["d\xfe", "e", "f"])).toBeUndefined();
      expect(table.directory(["d\xff"])).toBeUndefined();
      expect(table.directory(["x".repeat(300)])).toBeUndefined();
      table.forget(e, 1);
      expect(table.directory(["d\xfe", "e"])).toBeUndefined();
    });

    test("a removed name goes only while the table has it for that file; the file's other names stay", () => {
      const table = new NodeTable();
      const a = table.remember(ROOT, "a", file(10));
      expect(table.remember(ROOT, "b", file(10))).toBe(a);
      // Removed, and looked up again since as another file: stays.
      table.remember(ROOT, "c", file(11));
      const c2 = table.remember(ROOT, "c", file(12));
      table.vanished(["c"], { st_dev: 7, st_ino: 11 });
      expect(table.child(ROOT, "c")).toBe(c2);
      table.vanished(["a"], { st_dev: 7, st_ino: 10 });
      expect(table.child(ROOT, "a")).toBeUndefined();
      expect(table.path(a)).toBe("/b");
      expect(table.nodeOfInode(7, 10)).toBe(a);
      // A directory removed and made again, looked up since: its name stays.
      const d = table.remember(ROOT, "d", dir(20));
      expect(table.remember(ROOT, "d", dir(21))).toBe(d);
      table.vanished(["d"], { st_dev: 7, st_ino: 20 });
      expect(table.directory(["d"])).toBe(d);
      table.vanished(["d"], { st_dev: 7, st_ino: 21 });
      expect(table.directory(["d"])).toBeUndefined();
    });

    test("a moved name keeps its node under the new name, replacing another file's; into an unknown directory it just goes", () => {
      const table = new NodeTable();
      const d = table.remember(ROOT, "d", dir(2));
      const a = table.remember(ROOT, "a", file(10));
      const old = table.remember(d, "b", file(11));
      table.moved(["a"], ["d", "b"], { st_dev: 7, st_ino: 10 });
      expect(table.child(ROOT, "a")).toBeUndefined();
      expect(table.child(d, "b")).toBe(a);
      expect(table.path(a)).toBe("/d/b");
      expect(table.path(old)).toBeUndefined();
      // A directory moves with what is under it.
      const inner = table.remember(d, "c", file(12));
      table.moved(["d"], ["e\xff"], { st_dev: 7, st_ino: 2 });
      expect(table.directory(["e\xff"])).toBe(d);
      expect(table.path(inner)).toBe("/e\xff/c");
      table.moved(["e\xff", "c"], ["nowhere", "c"], { st_dev: 7, st_ino: 12 });
      expect(table.path(inner)).toBeUndefined();
      // A name the table has for another file (looked up since) does not move.
      table.remember(ROOT, "f", file(13));
      const g = table.remember(ROOT, "g", file(14));
      table.moved(["f"], ["h"], { st_dev: 7, st_ino: 99 });
      expect(table.child(ROOT, "f")).toBeDefined();
      expect(table.child(ROOT, "h")).toBeUndefined();
      expect(table.child(ROOT, "g")).toBe(g);
    });
  });
});
