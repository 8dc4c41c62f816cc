/** @module path — a FileSystem path as the local backend hands it to the kernel: NUL-terminated, and split into parent and final name. */
import { ERRNO, FsError, isByteString, nameToBytes } from "../../../kernel/ipc/protocol/index.ts";

/** An empty C string, for the `AT_EMPTY_PATH` calls on an fd. */
export const EMPTY_PATH = Buffer.from("\0");

/**
 * Byte string `name` (see names.ts) as a NUL-terminated Buffer for the kernel, byte for byte. A string holding a NUL
 * could never reach the kernel intact (it would be cut short), and one that is not a byte string has no exact bytes:
 * both are refused with EINVAL.
 */
export function cString(name: string, syscall: string, path: string = name): Buffer {
  if (name.includes("\0") || !isByteString(name)) throw new FsError(ERRNO.EINVAL, syscall, path);
  return nameToBytes(name + "\0");
}

/** A whole FileSystem path for openat2 relative to the root fd: "" (the root itself) becomes "/". */
export function cPath(path: string, syscall: string): Buffer {
  return cString(path === "" ? "/" : path, syscall, path);
}

/** A path cut before its final component, for the *at calls. */
export interface SplitPath {
  /** The directory holding the final name as a path below the root, or null when it is the root itself (no lookup). */
  readonly parent: string | null;
  /**
   * The final component exactly as the kernel must see it, trailing slashes included ("d/" for mkdir, "." or ".."
   * as given); "." for the root itself.
   */
  readonly name: string;
  /** The path names the root itself ("", "/", "//"). */
  readonly isRoot: boolean;
  /**
   * The final component is an ordinary name without trailing slash: an *at lookup of it with AT_SYMLINK_NOFOLLOW
   * touches nothing but that directory entry. Otherwise ("..", ".", "x/") a lookup would walk or follow, and must
   * go through openat2 instead.
   */
  readonly plain: boolean;
}

/** Split `path` into the directory to resolve and the final component to hand to an *at call. */
export function splitPath(path: string): SplitPath {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end--;
  if (end === 0) return { parent: null, name: ".", isRoot: true, plain: false };
  const slash = path.lastIndexOf("/", end - 1);
  const parent = path.slice(0, slash + 1);
  const bare = path.slice(slash + 1, end);
  return {
    parent: spellsRoot(parent) ? null : parent,
    name: path.slice(slash + 1),
    isRoot: false,
    plain: end === path.length && bare !== "." && bare !== "..",
  };
}

/** A parent made only of "", "." and ".." components is the root: resolved in root, ".." at the root stays there. */
function spellsRoot(parent: string): boolean {
  for (const part of parent.split("/")) if (part !== "" && part !== "." && part !== "..") return false;
  return true;
}
