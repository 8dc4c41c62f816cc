/**
 * @module copy-up-tree — bringing a whole lower or merged directory into the upper, so that it can be renamed there
 * (the union's answer to overlayfs's `redirect_dir`, see `renameDir` in the union mount settings).
 *
 * The tree is materialized in place, top down, by steps that each leave the visible tree unchanged: a directory's
 * upper part is made (as {@link copyUpDirectory}), every visible entry of it is copied up (files by {@link copyUp},
 * atomically under a temp name, hard links through the index of `hardlink.ts`; subdirectories recursively), and
 * only then is the directory marked opaque (`.wh..wh..opq`), which cuts the lower layers off a directory whose every
 * visible entry is already in the upper. Its atime and mtime are put back afterwards. A crash at any point leaves the
 * same view as before (some entries already in the upper, all visible once), never a half tree: the rename itself
 * (whiteout of the old name, then one rename in the upper) comes only after the whole tree is in the upper and opaque.
 *
 * The union takes no directory locks: entries another thread creates in the directory meanwhile land in the upper
 * and are kept, but a lower entry another thread removes in the instant between its lookup here and its copy's
 * publication comes back (the copy wins over the new whiteout).
 *
 * The on-disk result is plain OCI-layer content: ordinary directories, files, symlinks, FIFOs, whiteouts and opaque
 * markers, so the upper stays readable as an image layer.
 */
import { AT_SYMLINK_NOFOLLOW, O, type Dirent } from "../../kernel/ipc/protocol/index.ts";
import { copyUp, copyUpDirectory } from "./copy-up.ts";
import { isDir, type BranchStack, type Node } from "./layer.ts";
import { childPath } from "./path.ts";
import { mergedBatch } from "./readdir.ts";
import { OPAQUE_MARKER } from "./whiteout.ts";

/** Whether directory `node` has a part in a lower branch (its listing merges more than the upper). */
export function hasLowerPart(node: Node): boolean {
  return node.branch !== 0 || node.layers.length > 1;
}

/**
 * Copies the visible directory `node` (canonical path, resolved by the caller) and everything visible below it into
 * the upper and makes it opaque (see the module comment). Returns at once for a directory that is upper only.
 */
export function copyUpTree(stack: BranchStack, node: Node): void {
  if (!hasLowerPart(node)) return;
  copyUpDirectory(stack, node.path);
  const upper = stack.upper;
  const before = upper.lstat(node.path);
  // The directory as the union sees it now: the upper part first, then the same lower layers.
  const dir: Node = { path: node.path, branch: 0, stat: before, layers: node.branch === 0 ? node.layers : [0, ...node.layers] };
  for (const entry of visibleEntries(stack, dir)) {
    const child = stack.lookupChild(dir, entry.name).node;
    if (child === null) continue;
    if (isDir(child.stat)) copyUpTree(stack, child);
    else copyUp(stack, child, true);
  }
  const marker = childPath(node.path, OPAQUE_MARKER);
  upper.close(upper.open(marker, O.CREAT | O.WRONLY, 0o600));
  upper.utimens(
    node.path,
    { sec: before.st_atime_sec, nsec: before.st_atime_nsec },
    { sec: before.st_mtime_sec, nsec: before.st_mtime_nsec },
    AT_SYMLINK_NOFOLLOW,
  );
}

/** Every visible entry of merged directory `dir` (whiteouts and `.wh.` names left out). */
function visibleEntries(stack: BranchStack, dir: Node): Dirent[] {
  const out: Dirent[] = [];
  for (let cookie = 0; ; ) {
    const batch = mergedBatch(stack, dir, cookie);
    out.push(...batch.entries);
    if (batch.last || batch.entries.length === 0) return out;
    cookie = batch.entries[batch.entries.length - 1]!.next;
  }
}
