/**
 * @module hardlink — hard links of lower files across copy-up (as overlayfs with `index=on`): copying up one name of a
 * lower file with several names never splits it; every name of it in the union shows the one copy, with one st_ino,
 * and st_nlink counts the union's names of it.
 *
 * On disk, in the upper (all names reserved: never listed, hiding nothing; the upper stays an OCI layer whose
 * hard-linked files are ordinary hard links, plus this hidden directory):
 * - `.wh..wh.index/<branch>.<ino>/` — the index entry of the regular file or symlink `<ino>` of lower branch
 *   `<branch>` (1 = the top lower; the index holds for the lower stack it was made with, as overlayfs's);
 *   - `data` — the copied-up file (or symlink): every union name of it that is in the upper is a hard link of it;
 *   - `1`, `2`, ... `<n>` — one more hard link of `data` for each name the lower file still shows through (n = its
 *     lower st_nlink when the entry was made). A lower name that is copied up (linked to `data`), whited out or
 *     replaced takes one away.
 *   So the union's st_nlink of the file is the upper's st_nlink less one (`data` itself).
 * - `.wh..wh.index/u.<upper ino>` — a symlink to `<branch>.<ino>`, which tells a name in the upper that is a link of
 *   an index entry (st_nlink less one) from any other hard-linked upper file; it counts only while `<branch>.<ino>/data`
 *   has that inode, so a stale one (a crash, a reused inode number) changes nothing.
 *
 * As an OCI layer, the upper reads as before: the union names of a copied-up file are ordinary hard links of one
 * another, and the index directory is a `.wh..wh.` meta name, which layer appliers (containerd) skip and which a
 * tool taking the upper as a layer should leave out. A lower name of the file that was never copied up is not in the
 * upper, so an image built from the layers shows it with its lower content there (as a diff of an overlayfs upper).
 *
 * Only regular files and symlinks with st_nlink > 1 in a lower are indexed; FIFOs, sockets and devices with several
 * names are copied up name by name. An entry is made whole under a temp name of the index directory (data synced,
 * attributes, the placeholders, the reverse symlink) and published by one rename of its directory, which fails when
 * the entry exists (it is never empty); a lower name is then linked up with link(2), which is atomic, and only then
 * is its placeholder removed, so a crash can leave st_nlink one too high, never a name without its data. Entries are
 * never removed (an entry whose names are all gone keeps its data until the upper is deleted).
 */
import { ERRNO, type FileSystem, FsError, O, readWholeDirectory, type Stat } from "../../kernel/ipc/protocol/index.ts";
import { copyAttributes, copyData, copyUpDirectory, discard, parentOf, tempName } from "./copy-up.ts";
import { isRegular, isSymlink, type BranchStack, type Node } from "./layer.ts";
import { childPath } from "./path.ts";
import { META_PREFIX } from "./whiteout.ts";

/** The index directory at the upper's root. */
export const INDEX_DIR = `${META_PREFIX}index`;
/** The name of the copied-up file inside an index entry. */
const DATA = "data";

/** Whether `node` is a name of a hard-linked lower file or symlink (indexed already, or to be when copied up). */
export function isIndexed(node: Node): boolean {
  return node.branch !== 0 && (node.index !== undefined || indexable(node.stat));
}

/** Whether `stat` is of a regular file or symlink with several names: the objects the index keeps whole. */
function indexable(stat: Stat): boolean {
  return (isRegular(stat) || isSymlink(stat)) && stat.st_nlink > 1;
}

/** The index entry directory of lower file `stat` of branch `branch`. */
function entryOf(branch: number, stat: Stat): string {
  return childPath(INDEX_DIR, `${branch}.${stat.st_ino}`);
}

/** The reverse symlink of upper inode `ino`. */
function reverseOf(ino: number): string {
  return childPath(INDEX_DIR, `u.${ino}`);
}

/** `stat` with st_nlink one less (the index's own `data` name is no union name). */
function unionStat(stat: Stat): Stat {
  return { ...stat, st_nlink: stat.st_nlink - 1 };
}

/**
 * For a lower regular file or symlink with several names: its index entry (the upper directory) and the union stat of the
 * entry's data when it has been copied up, else null.
 */
export function indexedLower(stack: BranchStack, branch: number, stat: Stat): { entry: string; stat: Stat } | null {
  if (!indexable(stat)) return null;
  const entry = entryOf(branch, stat);
  const data = stack.lstatOrNull(0, childPath(entry, DATA));
  return data === null ? null : { entry, stat: unionStat(data) };
}

/** The upper path of the copied-up file of index entry `entry`. */
export function indexData(entry: string): string {
  return childPath(entry, DATA);
}

/** The union stat of an upper object: a link of an index entry's data counts one name less. */
export function upperStat(upper: FileSystem, stat: Stat): Stat {
  if (!indexable(stat)) return stat;
  let entry: string;
  try {
    entry = upper.readlink(reverseOf(stat.st_ino));
  } catch (error) {
    if (error instanceof FsError) return stat;
    throw error;
  }
  try {
    const data = upper.lstat(childPath(childPath(INDEX_DIR, entry), DATA));
    return data.st_ino === stat.st_ino && data.st_dev === stat.st_dev ? unionStat(stat) : stat;
  } catch (error) {
    if (error instanceof FsError) return stat;
    throw error;
  }
}

/**
 * Makes the index entry of lower name `node` (a hard-linked file or symlink) unless it exists; returns the entry's
 * directory. `data` false copies no content (the caller truncates the file to 0 next).
 */
export function ensureIndex(stack: BranchStack, node: Node, data = true): string {
  if (node.index !== undefined) return node.index;
  const entry = entryOf(node.branch, node.stat);
  if (stack.lstatOrNull(0, entry) !== null) return entry;
  const upper = stack.upper;
  try {
    upper.mkdir(INDEX_DIR, 0o700);
  } catch (error) {
    if (!(error instanceof FsError) || error.errno !== ERRNO.EEXIST) throw error;
  }
  const temp = tempName(INDEX_DIR);
  upper.mkdir(temp, 0o700);
  try {
    const file = childPath(temp, DATA);
    if (isSymlink(node.stat)) {
      upper.symlink(stack.branch(node.branch).readlink(node.path), file);
    } else {
      const out = upper.open(file, O.CREAT | O.EXCL | O.WRONLY, 0o600);
      try {
        if (data) {
          copyData(stack.branch(node.branch), node.path, upper, out);
          upper.fdatasync(out);
        }
      } finally {
        upper.close(out);
      }
    }
    for (let i = 1; i <= node.stat.st_nlink; i++) upper.link(file, childPath(temp, String(i)));
    copyAttributes(upper, file, node.stat);
    const copy = upper.lstat(file);
    const reverse = tempName(INDEX_DIR);
    upper.symlink(entry.slice(INDEX_DIR.length + 1), reverse);
    upper.rename(reverse, reverseOf(copy.st_ino), 0);
    // A plain rename is no-replace here: an entry directory is never empty (it keeps `data`).
    upper.rename(temp, entry, 0);
  } catch (error) {
    removeTree(upper, temp);
    // Another thread or process published the same entry first: that one holds.
    if (error instanceof FsError && (error.errno === ERRNO.EEXIST || error.errno === ERRNO.ENOTEMPTY) && stack.lstatOrNull(0, entry) !== null) return entry;
    throw error;
  }
  return entry;
}

/** Removes one placeholder of index entry `entry`: one lower name of its file stopped showing it. */
export function dropLowerName(stack: BranchStack, entry: string): void {
  const upper = stack.upper;
  const fd = upper.open(entry, O.DIRECTORY, 0);
  let names: string[];
  try {
    names = readWholeDirectory(upper, fd).map((e) => e.name).filter((name) => /^[0-9]+$/.test(name));
  } finally {
    upper.close(fd);
  }
  for (const name of names) {
    try {
      upper.unlink(childPath(entry, name));
      return;
    } catch (error) {
      // Another thread took this one.
      if (!(error instanceof FsError) || error.errno !== ERRNO.ENOENT) throw error;
    }
  }
}

/**
 * Copies up lower name `node` of a hard-linked file: makes the index entry if needed, links its data to the node's
 * path in the upper, then drops one placeholder. A name another thread linked up first is left as it is.
 */
export function linkUp(stack: BranchStack, node: Node, data: boolean): void {
  const entry = ensureIndex(stack, node, data);
  copyUpDirectory(stack, parentOf(node.path));
  try {
    stack.upper.link(childPath(entry, DATA), node.path);
  } catch (error) {
    if (error instanceof FsError && error.errno === ERRNO.EEXIST) return;
    throw error;
  }
  dropLowerName(stack, entry);
}

/** Removes a temp tree of the index directory (a lost race or a failed copy); a left-over is never listed. */
function removeTree(upper: FileSystem, dir: string): void {
  try {
    const fd = upper.open(dir, O.DIRECTORY, 0);
    try {
      for (const entry of readWholeDirectory(upper, fd)) upper.unlink(childPath(dir, entry.name));
    } finally {
      upper.close(fd);
    }
  } catch {
    // Nothing more can be done.
  }
  discard(upper, dir, true);
}
