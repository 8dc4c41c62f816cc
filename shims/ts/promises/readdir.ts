/** @module readdir — directory listings as names or Dirent objects, optionally of the whole tree (`recursive`). */
import { posix } from "node:path";
import type { DanausClient } from "../client.ts";
import { DT } from "../../../services/ipc-router/protocol/index.ts";
import { Dirent, modeToType } from "./dirent.ts";
import { hasCode } from "./errors.ts";

/**
 * The entries of `path` (without "." and ".."), in the service's order, as Dirent objects whose `parentPath` is `path`
 * as given. With `recursive`, subdirectories are listed after their parent (breadth first, symlinks not followed) and
 * their entries carry their own `parentPath`. ENOENT, ENOTDIR.
 */
export function listDirents(client: DanausClient, path: string, recursive: boolean): Dirent[] {
  const out: Dirent[] = [];
  const queue = [path];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const dir = next;
    for (const entry of client.readdir(dir)) {
      let type = entry.type;
      if (type === DT.UNKNOWN) {
        try {
          type = modeToType(client.lstat(posix.join(dir, entry.name)).st_mode);
        } catch (error) {
          if (!hasCode(error, "ENOENT")) throw error;
          continue; // removed since the listing
        }
      }
      const dirent = new Dirent(entry.name, dir, type);
      out.push(dirent);
      if (recursive && type === DT.DIR) queue.push(posix.join(dir, entry.name));
    }
  }
  return out;
}

/** Entry names of `path`; with `recursive`, paths relative to `path` ("sub/file"). ENOENT, ENOTDIR. */
export function listNames(client: DanausClient, path: string, recursive: boolean): string[] {
  if (!recursive) return client.readdir(path).map((entry) => entry.name);
  return listDirents(client, path, true).map((dirent) => posix.relative(path, posix.join(dirent.parentPath, dirent.name)));
}
