/**
 * @module node-table — the kernel's node ids mapped to paths of the served FileSystem, with the kernel's lookup
 * counts. Ids come from a monotonic counter and are never reused, so nodeid:generation (generation 0) is unique for
 * the mount's lifetime even after a FORGET.
 */
import { FUSE_ROOT_ID } from "../protocol/index.ts";

/** One node the kernel knows. */
interface Node {
  /** Its path in the FileSystem ("/" for the root); undefined once unlinked or replaced by a rename. */
  path: string | undefined;
  /** LOOKUP-like replies minus FORGET counts; the node is dropped at 0 (never the root). */
  lookups: number;
}

/** Joins a directory path and one name ("/" + "a" → "/a"). */
export function childPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

/**
 * Node id ↔ path table of one mount. Not thread-safe: one table per serving thread (the server runs one Worker
 * because of this; see the server module).
 */
export class NodeTable {
  private readonly nodes = new Map<number, Node>([[FUSE_ROOT_ID, { path: "/", lookups: 1 }]]);
  private readonly byPath = new Map<string, number>([["/", FUSE_ROOT_ID]]);
  private nextId = FUSE_ROOT_ID + 1;

  /** The path of `nodeid`, or undefined when the kernel names a node that is unknown, forgotten or unlinked (ESTALE). */
  path(nodeid: number): string | undefined {
    return this.nodes.get(nodeid)?.path;
  }

  /** How many nodes are held (the root included); for tests and metrics. */
  get size(): number {
    return this.nodes.size;
  }

  /** The kernel's lookup count of `nodeid` (0 when unknown). */
  lookups(nodeid: number): number {
    return this.nodes.get(nodeid)?.lookups ?? 0;
  }

  /** The node id currently naming `path`, if the kernel holds one. */
  remembered(path: string): number | undefined {
    return this.byPath.get(path);
  }

  /** Records one more kernel reference to `path` (a LOOKUP, CREATE, MKDIR... reply); returns its node id. */
  remember(path: string): number {
    const known = this.byPath.get(path);
    if (known !== undefined) {
      const node = this.nodes.get(known);
      if (node !== undefined) {
        node.lookups++;
        return known;
      }
    }
    const id = this.nextId++;
    this.nodes.set(id, { path, lookups: 1 });
    this.byPath.set(path, id);
    return id;
  }

  /** FORGET: drops `count` references of `nodeid`; the node goes away at zero. The root is never dropped. */
  forget(nodeid: number, count: number): void {
    if (nodeid === FUSE_ROOT_ID) return;
    const node = this.nodes.get(nodeid);
    if (node === undefined) return;
    node.lookups -= count;
    if (node.lookups > 0) return;
    this.nodes.delete(nodeid);
    if (node.path !== undefined && this.byPath.get(node.path) === nodeid) this.byPath.delete(node.path);
  }

  /** The name `path` was removed (UNLINK, RMDIR): its node, if any, keeps its id but no longer has a path. */
  removed(path: string): void {
    const id = this.byPath.get(path);
    if (id === undefined) return;
    this.byPath.delete(path);
    const node = this.nodes.get(id);
    if (node !== undefined) node.path = undefined;
  }

  /** A successful rename of `from` to `to`: a node at `to` is replaced; `from` and everything under it move. */
  renamed(from: string, to: string): void {
    if (from === to) return;
    this.removed(to);
    this.move(from, to);
  }

  /** A successful RENAME_EXCHANGE: the two names swap their nodes (and subtrees). */
  exchanged(a: string, b: string): void {
    const marker = `\0exchange`;
    this.move(a, marker);
    this.move(b, a);
    this.move(marker, b);
  }

  private move(from: string, to: string): void {
    const prefix = `${from}/`;
    const moves: [string, number][] = [];
    for (const [path, id] of this.byPath) {
      if (path === from) moves.push([to, id]);
      else if (path.startsWith(prefix)) moves.push([to + path.slice(from.length), id]);
    }
    for (const [, id] of moves) {
      const node = this.nodes.get(id);
      if (node?.path !== undefined) this.byPath.delete(node.path);
    }
    for (const [path, id] of moves) {
      const node = this.nodes.get(id);
      if (node === undefined) continue;
      node.path = path;
      this.byPath.set(path, id);
    }
  }
}
