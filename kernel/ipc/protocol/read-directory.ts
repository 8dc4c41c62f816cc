/** @module read-directory — reading a whole directory through a FileSystem's readdir batches and their cookies. */
import type { Dirent } from "./dirent.ts";
import type { FileSystem } from "./file-system.ts";

/** Every entry of the open directory `fd` of `fs` (without "." and ".."), in the order the file system lists them. */
export function readWholeDirectory(fs: FileSystem, fd: number): Dirent[] {
  const entries: Dirent[] = [];
  for (let cookie = 0; ; ) {
    const batch = fs.readdir(fd, cookie);
    if (batch.length === 0) return entries;
    entries.push(...batch);
    cookie = batch[batch.length - 1]!.next;
  }
}
