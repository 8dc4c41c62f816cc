/** @module fs-tree — whole-tree helpers over a FileSystem instance: mkdir -p, listing a directory, rm -r, exists. */
import { type FileSystem, FsError, O, readWholeDirectory, S_IFDIR, S_IFMT } from "../ipc/protocol/index.ts";


function errnoCode(error: unknown): string | undefined {
  return error instanceof FsError ? error.code : undefined;
}

/** The lstat of `path`, or null when it does not exist (ENOENT). Other errors are thrown. */
export function lstatOrNull(fs: FileSystem, path: string): ReturnType<FileSystem["lstat"]> | null {
  try {
    return fs.lstat(path);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return null;
    throw error;
  }
}

/** mkdir -p: creates every missing directory of `path` with `mode`; an existing directory is fine. Throws FsError. */
export function mkdirs(fs: FileSystem, path: string, mode: number): void {
  let at = "";
  for (const part of path.split("/").filter((p) => p !== "" && p !== ".")) {
    at += `/${part}`;
    try {
      fs.mkdir(at, mode);
    } catch (error) {
      if (errnoCode(error) !== "EEXIST") throw error;
    }
  }
}

/** The names in directory `path` (without "." and ".."), in the order the file system lists them. Throws FsError. */
export function listDirectory(fs: FileSystem, path: string): string[] {
  const fd = fs.open(path, O.RDONLY | O.DIRECTORY, 0);
  try {
    return readWholeDirectory(fs, fd).map((entry) => entry.name);
  } finally {
    fs.close(fd);
  }
}

/** rm -r of `path` (a file, a symlink or a whole directory tree); nothing happens when it does not exist. Throws FsError. */
export function removeTree(fs: FileSystem, path: string): void {
  const stat = lstatOrNull(fs, path);
  if (stat === null) return;
  if ((stat.st_mode & S_IFMT) !== S_IFDIR) {
    fs.unlink(path);
    return;
  }
  // A read-only directory (an image layer's mode bits) must be writable before its entries can go.
  if ((stat.st_mode & 0o700) !== 0o700) fs.chmod(path, 0o700);
  for (const name of listDirectory(fs, path)) removeTree(fs, `${path}/${name}`);
  fs.rmdir(path);
}
