/**
 * @module readdir — the merged listing of a union directory: every layer's entries, the first branch holding a name
 * wins, names whited out by a higher layer and all `.wh.` names are skipped. Entries are ordered by a 52-bit hash
 * of their name and an entry's cookie is that hash (≥ 1), so a listing continued from a cookie — in any thread, after
 * any change to the directory — never repeats or skips an entry present throughout (ext4's hash-order trick).
 *
 * A directory stream keeps no listing: each batch streams every layer's entries again (by the branches' own bounded
 * batches) through a {@link Window} that keeps only the next few hundred names after the cookie. So an open stream
 * costs nothing but its slot and its branch handle, whatever the directory's size and however many streams are open;
 * the price is one pass over the layers per batch (a directory of N names is listed in N/256 passes).
 */
import { type Dirent, O, type ReadOnlyFileSystem } from "../../kernel/ipc/protocol/index.ts";
import type { BranchStack, Node } from "./layer.ts";
import { hiddenBy, isReserved } from "./whiteout.ts";

/** Entries per batch. */
const BATCH = 256;

/** The 52-bit cookie of a name: two FNV-1a variants over its UTF-16 code units, never 0. */
export function nameCookie(name: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ name.length;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  const cookie = ((a >>> 0) & 0xfffff) * 0x100000000 + (b >>> 0);
  return cookie === 0 ? 1 : cookie;
}

/**
 * A name met while streaming the layers: a visible entry, or (entry null) a name that a layer whites out, which hides
 * the name in the layers below.
 */
interface Candidate {
  readonly cookie: number;
  readonly name: string;
  readonly layer: number;
  readonly entry: Dirent | null;
}

/**
 * The candidates with the smallest cookies after `after`, about `size` of them (ties at the boundary are all kept, so
 * equal cookies never straddle two batches). Layers are offered top first: a name already held from a higher layer
 * hides the same name below; a name pushed out of the window has a cookie past the window's limit, and so has the same
 * name in any lower layer. Memory is at most 2 × `size` candidates, whatever the directory holds.
 */
class Window {
  private items: Candidate[] = [];
  private readonly byName = new Map<string, Candidate>();
  /** Cookies above this cannot enter any more (the window is full below it). */
  limit = Infinity;

  constructor(private readonly after: number, private readonly size: number) {}

  offer(candidate: Candidate): void {
    if (candidate.cookie <= this.after || candidate.cookie > this.limit) return;
    const held = this.byName.get(candidate.name);
    if (held !== undefined) {
      // In one layer, a real entry wins over a whiteout of the same name (a whiteout hides the layers below only).
      if (held.layer !== candidate.layer || held.entry !== null || candidate.entry === null) return;
      this.items[this.items.indexOf(held)] = candidate;
      this.byName.set(candidate.name, candidate);
      return;
    }
    this.items.push(candidate);
    this.byName.set(candidate.name, candidate);
    if (this.items.length >= 2 * this.size) this.trim();
  }

  /** The visible entries held, ordered by cookie (then name), each with its cookie as `next`. */
  entries(): Dirent[] {
    this.trim();
    const out: Dirent[] = [];
    for (const { entry, cookie } of this.items) if (entry !== null) out.push({ ino: entry.ino, type: entry.type, name: entry.name, next: cookie });
    return out;
  }

  /** Whether names past the window were dropped (the directory continues after {@link limit}). */
  get truncated(): boolean {
    return this.limit !== Infinity;
  }

  private trim(): void {
    this.items.sort((x, y) => x.cookie - y.cookie || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    let end = Math.min(this.size, this.items.length);
    while (end < this.items.length && this.items[end]!.cookie === this.items[end - 1]!.cookie) end++;
    if (end === this.items.length) return;
    for (let i = end; i < this.items.length; i++) this.byName.delete(this.items[i]!.name);
    this.items.length = end;
    this.limit = this.items[end - 1]!.cookie;
  }
}

/** Calls `each` for every entry of open directory `fd` of `fs`, by the branch's own batches (nothing is kept). */
function streamHandle(fs: ReadOnlyFileSystem, fd: number, each: (entry: Dirent) => void): void {
  for (let cookie = 0; ; ) {
    const batch = fs.readdir(fd, cookie);
    if (batch.length === 0) return;
    for (const entry of batch) each(entry);
    cookie = batch[batch.length - 1]!.next;
  }
}

/** One batch of a listing. */
export interface Batch {
  /** Up to about the window's size of visible entries, in cookie order; empty at the end. */
  readonly entries: Dirent[];
  /** True when nothing follows these entries (the next batch would be empty). */
  readonly last: boolean;
}

/**
 * Up to `size` visible entries of a directory after `cookie`, in cookie order, never splitting equal cookies. `fill`
 * offers the names to the window (it may be called again with a later start when every name of a full window was
 * hidden).
 */
function windowAfter(cookie: number, size: number, fill: (window: Window) => void): Batch {
  for (let after = cookie; ; ) {
    const window = new Window(after, size);
    fill(window);
    const entries = window.entries();
    if (entries.length > 0 || !window.truncated) return { entries, last: !window.truncated };
    after = window.limit;
  }
}

/**
 * The batch of merged directory `dir` after `cookie`: at most about `size` (default {@link BATCH}) visible entries,
 * cookie-ordered. The first branch holding a name wins; whiteouts and `.wh.` names are skipped.
 */
export function mergedBatch(stack: BranchStack, dir: Node, cookie: number, size = BATCH): Batch {
  return windowAfter(cookie, size, (window) => {
    dir.layers.forEach((b, layer) => {
      const fs = stack.branch(b);
      const fd = fs.open(dir.path, O.DIRECTORY, 0);
      try {
        streamHandle(fs, fd, (entry) => {
          if (!isReserved(entry.name)) {
            window.offer({ cookie: nameCookie(entry.name), name: entry.name, layer, entry });
            return;
          }
          const hidden = hiddenBy(entry.name);
          if (hidden !== null) window.offer({ cookie: nameCookie(hidden), name: hidden, layer, entry: null });
        });
      } finally {
        fs.close(fd);
      }
    });
  });
}

/** Whether merged directory `dir` shows any entry (rmdir and rename over a directory need it empty). */
export function hasEntries(stack: BranchStack, dir: Node): boolean {
  return mergedBatch(stack, dir, 0, 64).entries.length > 0;
}

/**
 * The batch after `cookie` of branch directory `fd` alone (a directory that moved away from its union path), with the
 * same hash cookies; whiteouts and `.wh.` names skipped.
 */
export function handleBatch(fs: ReadOnlyFileSystem, fd: number, cookie: number, size = BATCH): Batch {
  return windowAfter(cookie, size, (window) =>
    streamHandle(fs, fd, (entry) => {
      if (!isReserved(entry.name)) window.offer({ cookie: nameCookie(entry.name), name: entry.name, layer: 0, entry });
    }),
  );
}
