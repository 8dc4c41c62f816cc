/** @module readdir — directory listings as names or entries, optionally of the whole tree (`recursive`), in exact bytes. */
import { posix } from "node:path";
import type { DanausClient } from "../client.ts";
import { bytesToName, DT, nameToBytes } from "../../../kernel/ipc/protocol/index.ts";
import { modeToType } from "./dirent.ts";
import { hasCode } from "./errors.ts";

/** One listed entry: name and parent as byte strings (names.ts), its `DT_*` type resolved. */
export interface ListedEntry {
  readonly name: string;
  readonly parentPath: string;
  readonly type: number;
}

/**
 * The entries of byte-string `path` (without "." and ".."), in the service's order, each with `parentPath` = `path`
 * as given. With `recursive`, subdirectories are listed after their parent (breadth first, symlinks not followed) and
 * their entries carry their own `parentPath`. Names keep their exact bytes, so every entry can be reached again.
 * ENOENT, ENOTDIR.
 */
export function listDirents(client: DanausClient, path: string, recursive: boolean): ListedEntry[] {
  const out: ListedEntry[] = [];
  const queue = [path];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const dir = next;
    for (const entry of client.readdir(nameToBytes(dir), { encoding: "buffer" })) {
      const name = bytesToName(entry.name);
      let type = entry.type;
      if (type === DT.UNKNOWN) {
        try {
          type = modeToType(client.lstat(nameToBytes(posix.join(dir, name))).st_mode);
        } catch (error) {
          if (!hasCode(error, "ENOENT")) throw error;
          continue; // removed since the listing
        }
      }
      out.push({ name, parentPath: dir, type });
      if (recursive && type === DT.DIR) queue.push(posix.join(dir, name));
    }
  }
  return out;
}

/** Entry names (byte strings) of `path`; with `recursive`, paths relative to `path` ("sub/file"). ENOENT, ENOTDIR. */
export function listNames(client: DanausClient, path: string, recursive: boolean): string[] {
  if (!recursive) return client.readdir(nameToBytes(path), { encoding: "buffer" }).map((entry) => bytesToName(entry.name));
  return listDirents(client, path, true).map((entry) => posix.relative(path, posix.join(entry.parentPath, entry.name)));
}
