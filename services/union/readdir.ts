/**
 * @module readdir — the merged listing of a union directory: every layer's entries, the first branch holding a name
 * wins, names whited out by a higher layer and all `.wh.` names are skipped. Entries are ordered by a 52-bit hash
 * of their name and an entry's cookie is that hash (≥ 1), so a listing continued from a cookie — in any thread, after
 * any change to the directory — never repeats or skips an entry present throughout (ext4's hash-order trick).
 */
import { type Dirent, type FileSystem, O } from "../ipc-router/protocol/index.ts";
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

/** Every entry of one branch directory, by batches of its own readdir. */
function listBranch(fs: FileSystem, path: string): Dirent[] {
  const fd = fs.open(path, O.DIRECTORY, 0);
  try {
    const out: Dirent[] = [];
    for (let cookie = 0; ; ) {
      const batch = fs.readdir(fd, cookie);
      if (batch.length === 0) return out;
      out.push(...batch);
      cookie = batch[batch.length - 1]!.next;
    }
  } finally {
    fs.close(fd);
  }
}

/** The visible entries of branch directory `fd` alone, read from its handle (whiteouts and `.wh.` names skipped). */
export function listHandle(fs: FileSystem, fd: number): Dirent[] {
  const out: Dirent[] = [];
  for (let cookie = 0; ; ) {
    const batch = fs.readdir(fd, cookie);
    if (batch.length === 0) return out;
    for (const entry of batch) if (!isReserved(entry.name)) out.push(entry);
    cookie = batch[batch.length - 1]!.next;
  }
}

/** The visible entries of directory `dir`, unordered, `next` unset. */
export function mergedEntries(stack: BranchStack, dir: Node): Dirent[] {
  const seen = new Set<string>();
  const hidden = new Set<string>();
  const out: Dirent[] = [];
  for (const b of dir.layers) {
    const whiteouts: string[] = [];
    for (const entry of listBranch(stack.branch(b), dir.path)) {
      if (isReserved(entry.name)) {
        const name = hiddenBy(entry.name);
        if (name !== null) whiteouts.push(name);
        continue;
      }
      if (seen.has(entry.name) || hidden.has(entry.name)) continue;
      seen.add(entry.name);
      out.push(entry);
    }
    // A whiteout hides names of the layers below its own only.
    for (const name of whiteouts) hidden.add(name);
  }
  return out;
}

/** `entries` with hash cookies, sorted by them. */
export function orderEntries(entries: readonly Dirent[]): Dirent[] {
  return entries
    .map((entry) => ({ ino: entry.ino, type: entry.type, name: entry.name, next: nameCookie(entry.name) }))
    .sort((x, y) => x.next - y.next || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

/**
 * The batch of an ordered listing after `cookie`: up to {@link BATCH} entries, never splitting entries of equal
 * cookie across batches (so a hash collision cannot lose one); empty at the end.
 */
export function batchAfter(ordered: readonly Dirent[], cookie: number): Dirent[] {
  let low = 0;
  let high = ordered.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (ordered[mid]!.next <= cookie) low = mid + 1;
    else high = mid;
  }
  let end = Math.min(ordered.length, low + BATCH);
  while (end < ordered.length && ordered[end]!.next === ordered[end - 1]!.next) end++;
  return ordered.slice(low, end);
}
