/** @module danaus-promises — the `node:fs/promises`-shaped facade over one DanausClient. */
import { AT_SYMLINK_NOFOLLOW, bytesToName, nameFromText, nameToBytes, textFromName } from "../../../kernel/ipc/protocol/index.ts";
import { Buffer } from "node:buffer";
import { constants as fsConstants } from "node:fs";
import { posix } from "node:path";
import type { DanausClient } from "../client.ts";
import { encodingOf, nameAs, toFlags, toInteger, toMode, toName, toPath, toSeconds, toTimespec, type Mode, type OpenMode, type PathLike, type TimeLike } from "./arguments.ts";
import { copyFile } from "./copy-file.ts";
import { Dirent } from "./dirent.ts";
import { InvalidArgumentError, IsDirectoryError, hasCode, throwIfAborted } from "./errors.ts";
import { FileHandle } from "./file-handle.ts";
import { readToEnd, writeData, type WriteData } from "./io.ts";
import { listDirents, listNames } from "./readdir.ts";
import { Stats, toStatFs, type StatFs } from "./stats.ts";
import { makeTree, removeTree } from "./tree.ts";

/** Options of {@link DanausPromises.readFile}. */
export type ReadFileOptions = { encoding?: BufferEncoding | null; flag?: OpenMode; signal?: AbortSignal | null } | BufferEncoding | null;
/** Options of {@link DanausPromises.writeFile} and {@link DanausPromises.appendFile}. */
export type WriteFileOptions =
  | { encoding?: BufferEncoding | null; mode?: Mode; flag?: OpenMode; flush?: boolean; signal?: AbortSignal | null }
  | BufferEncoding
  | null;
/** Options of {@link DanausPromises.readdir}. */
export interface ReaddirOptions {
  withFileTypes?: boolean;
  recursive?: boolean;
  encoding?: BufferEncoding | null;
}
/** Options of {@link DanausPromises.mkdir} (or just the mode). */
export type MakeDirectoryOptions = { recursive?: boolean; mode?: Mode } | Mode | null;
/** Options of {@link DanausPromises.rm}. */
export interface RmOptions {
  recursive?: boolean;
  force?: boolean;
  /** Retries after EBUSY, ENOTEMPTY, EPERM, EMFILE, ENFILE (default 0), waiting `retryDelay` ms more each time (default 100). */
  maxRetries?: number;
  retryDelay?: number;
}
/** Options of {@link DanausPromises.stat} / {@link DanausPromises.lstat}; only `bigint: false` is supported. */
export interface StatOptions {
  bigint?: false;
}

/** Codes after which Node's rm retries (rimraf). */
const RETRY_CODES = ["EBUSY", "EMFILE", "ENFILE", "ENOTEMPTY", "EPERM"];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function signalOf(options: unknown): AbortSignal | null | undefined {
  return options !== null && typeof options === "object" ? (options as { signal?: AbortSignal | null }).signal : undefined;
}

function field<T>(options: unknown, name: string): T | undefined {
  return options !== null && typeof options === "object" ? (options as Record<string, T | undefined>)[name] : undefined;
}

/**
 * `node:fs/promises` for the paths of one tenant: the same function names, signatures and results, backed by a
 * {@link DanausClient}. Methods are bound, so `const { readFile } = promises(client)` works. Every failure rejects
 * with the client's FsError (`code` = "ENOENT", `errno`, `syscall`, `path`) — except bad arguments (TypeError with
 * Node's ERR_* `code`) and rm of a directory without `recursive` (`code` ERR_FS_EISDIR, as Node).
 */
export class DanausPromises {
  /** The `node:fs` constants (O_*, S_*, F_OK..., COPYFILE_*), as `fs/promises` exports them. */
  readonly constants = fsConstants;

  /** A facade over `client`; it shares the client's file table and working directory. */
  constructor(readonly client: DanausClient) {
    const self = this as unknown as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(DanausPromises.prototype)) {
      const member = self[name];
      if (name !== "constructor" && typeof member === "function") self[name] = member.bind(this);
    }
  }

  /** `path` as an absolute path, relative ones resolved against the client's working directory. */
  private absolute(path: PathLike): string {
    return posix.resolve(nameFromText(this.client.getcwd()), toName(path));
  }

  /** Opens a file with Node flags ("r" by default; "w", "a+", "wx"... or O_* bits). ENOENT, EEXIST, EISDIR, ENOTDIR. */
  async open(path: PathLike, flags?: OpenMode | null, mode?: Mode | null): Promise<FileHandle> {
    const fd = this.client.open(toPath(path), toFlags(flags, "r"), toMode(mode, 0o666));
    return new FileHandle(this.client, fd);
  }

  /** The whole file as a Buffer (from a path, or from a FileHandle's position). ENOENT, EISDIR. */
  readFile(path: PathLike | FileHandle, options?: { encoding?: null; flag?: OpenMode; signal?: AbortSignal | null } | null): Promise<Buffer>;
  /** The whole file decoded as a string. */
  readFile(path: PathLike | FileHandle, options: { encoding: BufferEncoding; flag?: OpenMode; signal?: AbortSignal | null } | BufferEncoding): Promise<string>;
  /** The whole file, a string if `options` names an encoding. */
  readFile(path: PathLike | FileHandle, options?: ReadFileOptions): Promise<Buffer | string>;
  async readFile(path: PathLike | FileHandle, options?: ReadFileOptions): Promise<Buffer | string> {
    const encoding = encodingOf(options);
    const signal = signalOf(options);
    throwIfAborted(signal);
    if (path instanceof FileHandle) return path.readFile({ encoding, signal });
    const fd = this.client.open(toPath(path), toFlags(field<OpenMode>(options, "flag"), "r"), 0o666);
    let bytes: Buffer;
    try {
      bytes = readToEnd(this.client, fd, signal);
    } finally {
      this.client.close(fd);
    }
    return encoding === null ? bytes : bytes.toString(encoding);
  }

  /**
   * Replaces the file's contents with `data` (a string, bytes, or an iterable of them), creating it with `mode`
   * (default 0o666); `flag` defaults to "w". With a FileHandle, writes from its position. ENOENT, EISDIR, EEXIST ("wx").
   */
  async writeFile(path: PathLike | FileHandle, data: WriteData, options?: WriteFileOptions): Promise<void> {
    await this.write(path, data, options, "w");
  }

  /** Appends `data` to the file, creating it (`flag` defaults to "a"). ENOENT, EISDIR. */
  async appendFile(path: PathLike | FileHandle, data: WriteData, options?: WriteFileOptions): Promise<void> {
    await this.write(path, data, options, "a");
  }

  private async write(path: PathLike | FileHandle, data: WriteData, options: WriteFileOptions | undefined, defaultFlag: string): Promise<void> {
    const signal = signalOf(options);
    throwIfAborted(signal);
    if (path instanceof FileHandle) return path.writeFile(data, options);
    const encoding = encodingOf(options, "utf8");
    const fd = this.client.open(toPath(path), toFlags(field<OpenMode>(options, "flag"), defaultFlag), toMode(field<Mode>(options, "mode"), 0o666));
    try {
      await writeData(this.client, fd, data, encoding, signal);
      if (field<boolean>(options, "flush")) this.client.fsync(fd);
    } finally {
      this.client.close(fd);
    }
  }

  /** Entry names of a directory (relative paths below it with `recursive`). ENOENT, ENOTDIR. */
  readdir(path: PathLike, options?: (ReaddirOptions & { withFileTypes?: false }) | BufferEncoding | null): Promise<string[]>;
  /** Dirent objects (`name`, `parentPath`, `isFile()`, `isDirectory()`...) for the entries of a directory. */
  readdir(path: PathLike, options: ReaddirOptions & { withFileTypes: true }): Promise<Dirent[]>;
  /** Names, or Dirent objects with `withFileTypes`. */
  readdir(path: PathLike, options?: ReaddirOptions | BufferEncoding | null): Promise<string[] | Dirent[]>;
  async readdir(path: PathLike, options?: ReaddirOptions | BufferEncoding | null): Promise<string[] | Dirent[]> {
    const encoding = encodingOf(options, "utf8");
    const recursive = field<boolean>(options, "recursive") === true;
    const where = toName(path);
    const show = (name: string): string | Buffer => nameAs(name, encoding);
    if (field<boolean>(options, "withFileTypes")) {
      return listDirents(this.client, where, recursive).map((d) => new Dirent(show(d.name), textFromName(d.parentPath), d.type)) as Dirent[];
    }
    return listNames(this.client, where, recursive).map(show) as string[];
  }

  /** stat(2), following symlinks. ENOENT, ENOTDIR, ELOOP. */
  async stat(path: PathLike, options?: StatOptions): Promise<Stats> {
    this.noBigint(options);
    return new Stats(this.client.stat(toPath(path)));
  }

  /** lstat(2): the symlink itself. ENOENT, ENOTDIR. */
  async lstat(path: PathLike, options?: StatOptions): Promise<Stats> {
    this.noBigint(options);
    return new Stats(this.client.lstat(toPath(path)));
  }

  private noBigint(options: StatOptions | undefined): void {
    if ((options as { bigint?: boolean } | undefined)?.bigint) throw new InvalidArgumentError("ERR_METHOD_NOT_IMPLEMENTED", "stat: bigint Stats are not supported by the danaus facade; drop { bigint: true }");
  }

  /** statfs(2) of the filesystem holding `path`, as Node's StatFs. ENOENT. */
  async statfs(path: PathLike, options?: StatOptions): Promise<StatFs> {
    this.noBigint(options);
    return toStatFs(this.client.statfs(toPath(path)));
  }

  /**
   * Creates a directory (mode default 0o777). With `recursive`, creates missing parents and resolves to the first
   * directory created (absolute), or undefined if it already existed as a directory. EEXIST, ENOENT, ENOTDIR.
   */
  mkdir(path: PathLike, options: { recursive: true; mode?: Mode }): Promise<string | undefined>;
  /** Creates one directory. */
  mkdir(path: PathLike, options?: { recursive?: false; mode?: Mode } | Mode | null): Promise<undefined>;
  /** Creates a directory, or a chain of them with `recursive`. */
  mkdir(path: PathLike, options?: MakeDirectoryOptions): Promise<string | undefined>;
  async mkdir(path: PathLike, options?: MakeDirectoryOptions): Promise<string | undefined> {
    const object = options !== null && typeof options === "object";
    const mode = toMode(object ? options.mode : options, 0o777);
    if (object && options.recursive) {
      const first = makeTree(this.client, this.absolute(path), mode);
      return first === undefined ? undefined : textFromName(first);
    }
    this.client.mkdir(toPath(path), mode);
    return undefined;
  }

  /**
   * Creates a new directory named `prefix` plus six random characters (mode 0o700) and resolves to its path.
   * ENOENT when the prefix's directory does not exist.
   */
  async mkdtemp(prefix: PathLike): Promise<string> {
    const base = toPath(prefix, "prefix");
    const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (;;) {
      let suffix = "";
      for (const byte of crypto.getRandomValues(new Uint8Array(6))) suffix += alphabet[byte % alphabet.length];
      try {
        this.client.mkdir(base + suffix, 0o700);
        return base + suffix;
      } catch (error) {
        if (!hasCode(error, "EEXIST")) throw error;
      }
    }
  }

  /**
   * Removes a file, symlink, or (with `recursive`) a directory tree, like `rm -r`; `force` ignores a missing path.
   * ENOENT, ERR_FS_EISDIR (a directory without `recursive`), EACCES.
   */
  async rm(path: PathLike, options?: RmOptions): Promise<void> {
    const target = toPath(path);
    let stat;
    try {
      stat = new Stats(this.client.lstat(target));
    } catch (error) {
      if (options?.force && hasCode(error, "ENOENT")) return;
      throw error;
    }
    if (!stat.isDirectory()) {
      try {
        this.client.unlink(target);
      } catch (error) {
        if (!(options?.force && hasCode(error, "ENOENT"))) throw error;
      }
      return;
    }
    if (!options?.recursive) throw new IsDirectoryError(textFromName(toName(path)));
    const retries = toInteger(options.maxRetries ?? 0, "options.maxRetries", 0);
    const delay = toInteger(options.retryDelay ?? 100, "options.retryDelay", 0);
    for (let attempt = 1; ; attempt++) {
      try {
        removeTree(this.client, toName(path));
        return;
      } catch (error) {
        if (attempt > retries || !hasCode(error, ...RETRY_CODES)) throw error;
        await sleep(attempt * delay);
      }
    }
  }

  /** Removes an empty directory. ENOENT, ENOTEMPTY, ENOTDIR. */
  async rmdir(path: PathLike): Promise<void> {
    this.client.rmdir(toPath(path));
  }

  /** Renames (replacing an existing target of a compatible type). ENOENT, ENOTEMPTY, EISDIR, ENOTDIR, EXDEV across mounts. */
  async rename(oldPath: PathLike, newPath: PathLike): Promise<void> {
    this.client.rename(toPath(oldPath, "oldPath"), toPath(newPath, "newPath"), 0);
  }

  /** Removes a file or symlink. ENOENT, EISDIR. */
  async unlink(path: PathLike): Promise<void> {
    this.client.unlink(toPath(path));
  }

  /** Creates `path` as a symlink holding `target` verbatim (`type` is ignored, as on Linux). EEXIST, ENOENT. */
  async symlink(target: PathLike, path: PathLike, _type?: string | null): Promise<void> {
    this.client.symlink(toPath(target, "target"), toPath(path));
  }

  /** The target stored in a symlink. EINVAL (not a symlink), ENOENT. */
  async readlink(path: PathLike, options?: { encoding?: BufferEncoding | null } | BufferEncoding | null): Promise<string> {
    return nameAs(bytesToName(this.client.readlink(toPath(path), { encoding: "buffer" })), encodingOf(options, "utf8")) as string;
  }

  /** A new name for an existing file (hard link). EEXIST, ENOENT, EPERM (directories), EXDEV across mounts. */
  async link(existingPath: PathLike, newPath: PathLike): Promise<void> {
    this.client.link(toPath(existingPath, "existingPath"), toPath(newPath, "newPath"));
  }

  /** Checks the path exists (F_OK, the default) or is accessible with R_OK/W_OK/X_OK. ENOENT, EACCES. */
  async access(path: PathLike, mode: number = fsConstants.F_OK): Promise<void> {
    this.client.access(toPath(path), toInteger(mode, "mode", 0, 7));
  }

  /**
   * Copies `src` to `dest`, replacing it unless `mode` has COPYFILE_EXCL (then EEXIST); COPYFILE_FICLONE_FORCE is
   * refused with EOPNOTSUPP. ENOENT, EISDIR.
   */
  async copyFile(src: PathLike, dest: PathLike, mode = 0): Promise<void> {
    copyFile(this.client, toPath(src, "src"), toPath(dest, "dest"), toInteger(mode, "mode", 0, 7));
  }

  /** Changes permission bits, following symlinks. ENOENT, EPERM. */
  async chmod(path: PathLike, mode: Mode): Promise<void> {
    this.client.chmod(toPath(path), toMode(mode, 0));
  }

  /** Changes owner and group (-1 keeps one), following symlinks. ENOENT, EPERM. */
  async chown(path: PathLike, uid: number, gid: number): Promise<void> {
    this.client.chown(toPath(path), toInteger(uid, "uid", -1, 0xffffffff), toInteger(gid, "gid", -1, 0xffffffff));
  }

  /** Changes owner and group of a symlink itself. ENOENT, EPERM. */
  async lchown(path: PathLike, uid: number, gid: number): Promise<void> {
    this.client.lchown(toPath(path), toInteger(uid, "uid", -1, 0xffffffff), toInteger(gid, "gid", -1, 0xffffffff));
  }

  /** Sets access and modification times (seconds, numeric strings, or Dates), following symlinks. ENOENT. */
  async utimes(path: PathLike, atime: TimeLike, mtime: TimeLike): Promise<void> {
    this.client.utimens(toPath(path), toTimespec(toSeconds(atime, "atime")), toTimespec(toSeconds(mtime, "mtime")), 0);
  }

  /** Like {@link utimes} for a symlink itself. ENOENT. */
  async lutimes(path: PathLike, atime: TimeLike, mtime: TimeLike): Promise<void> {
    this.client.utimens(toPath(path), toTimespec(toSeconds(atime, "atime")), toTimespec(toSeconds(mtime, "mtime")), AT_SYMLINK_NOFOLLOW);
  }

  /** Sets a file's size to `len` bytes (default 0; negative counts as 0, like Node). ENOENT, EISDIR. */
  async truncate(path: PathLike, len = 0): Promise<void> {
    this.client.truncate(toPath(path), Math.max(0, toInteger(len, "len")));
  }
}

