/**
 * @module promises — a `node:fs/promises`-shaped facade over a DanausClient, so Bun code can switch with one import:
 * `const fs = promises(DanausClient.connect())` and then `await fs.readFile(path, "utf8")`.
 */
import type { DanausClient } from "../client.ts";
import { DanausPromises } from "./danaus-promises.ts";

export {
  DanausPromises,
  type MakeDirectoryOptions,
  type ReaddirOptions,
  type ReadFileOptions,
  type RmOptions,
  type StatOptions,
  type WriteFileOptions,
} from "./danaus-promises.ts";
export { FileHandle, type Position, type ReadOptions, type ReadResult, type WriteOptions, type WriteResult } from "./file-handle.ts";
export { Stats, type StatFs } from "./stats.ts";
export { Dirent } from "./dirent.ts";
export { AbortError, FileTooLargeError, InvalidArgumentError, IsDirectoryError } from "./errors.ts";
export type { Mode, OpenMode, PathLike, TimeLike } from "./arguments.ts";
export type { WriteData } from "./io.ts";

/** The `node:fs/promises` functions for the paths of `client`'s tenant (its methods are bound: destructuring works). */
export function promises(client: DanausClient): DanausPromises {
  return new DanausPromises(client);
}
