/**
 * @module tree — whole-tree operations: `mkdir -p` (recursive mkdir) and `rm -r` (recursive rm), with Node's results and
 * errors. Paths are byte strings (names.ts), so names that are not UTF-8 are reached and removed like any other.
 */
import { constants } from "node:fs";
import { posix } from "node:path";
import type { DanausClient } from "../client.ts";
import { bytesToName, DT, nameToBytes } from "../../../kernel/ipc/protocol/index.ts";
import { hasCode } from "./errors.ts";

/**
 * Creates `path` and any missing parents. Returns the first (top-most) directory created, or undefined when `path`
 * already was a directory. EEXIST when `path` is something else, ENOTDIR when a parent is not a directory.
 */
export function makeTree(client: DanausClient, path: string, mode: number): string | undefined {
  try {
    client.mkdir(nameToBytes(path), mode);
    return path;
  } catch (error) {
    if (hasCode(error, "EEXIST")) {
      if (isDirectory(client, path)) return undefined;
      throw error;
    }
    if (!hasCode(error, "ENOENT")) throw error;
    const parent = posix.dirname(path);
    if (parent === path) throw error;
    const first = makeTree(client, parent, mode);
    try {
      client.mkdir(nameToBytes(path), mode);
    } catch (again) {
      // Created by someone else meanwhile: fine as long as it is a directory.
      if (!hasCode(again, "EEXIST") || !isDirectory(client, path)) throw again;
    }
    return first ?? path;
  }
}

function isDirectory(client: DanausClient, path: string): boolean {
  try {
    return (client.stat(nameToBytes(path)).st_mode & constants.S_IFMT) === constants.S_IFDIR;
  } catch {
    return false;
  }
}

/**
 * Removes the directory `path` and everything below it, never following symlinks. Entries that vanish meanwhile are
 * skipped. ENOTEMPTY if entries keep appearing, EACCES/EPERM as the service answers.
 */
export function removeTree(client: DanausClient, path: string): void {
  let entries;
  try {
    entries = client.readdir(nameToBytes(path), { encoding: "buffer" });
  } catch (error) {
    if (hasCode(error, "ENOENT")) return;
    throw error;
  }
  for (const entry of entries) {
    const child = posix.join(path, bytesToName(entry.name));
    let type = entry.type;
    try {
      if (type === DT.UNKNOWN) type = (client.lstat(nameToBytes(child)).st_mode >>> 12) & 0o17;
      if (type === DT.DIR) removeTree(client, child);
      else client.unlink(nameToBytes(child));
    } catch (error) {
      if (!hasCode(error, "ENOENT")) throw error;
    }
  }
  try {
    client.rmdir(nameToBytes(path));
  } catch (error) {
    if (!hasCode(error, "ENOENT")) throw error;
  }
}
