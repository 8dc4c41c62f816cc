/** @module test/conformance/harness — what every conformance case shares: options, a fresh filesystem per test, errno assertions, byte helpers. */
import { expect, test } from "bun:test";
import { constants } from "node:fs";
import { FsError, readWholeDirectory, type Dirent, type ErrnoName, type FileSystem } from "../../kernel/ipc/protocol/index.ts";

/** One filesystem instance under test and how to throw it away. */
export interface ConformanceInstance {
  readonly fs: FileSystem;
  cleanup(): Promise<void> | void;
}

/**
 * What an implementation supports beyond the POSIX core. Every capability defaults to true except `renameFlags`
 * (RENAME_NOREPLACE / RENAME_EXCHANGE), `fifoIo` and `devices` (root only); an implementation without one passes
 * `false` and its cases are skipped (or, for `devices`, expect EPERM).
 */
export interface ConformanceCapabilities {
  /** rename() honours RENAME_NOREPLACE and RENAME_EXCHANGE. Default false. */
  readonly renameFlags?: boolean;
  /** rename() honours RENAME_NOREPLACE (the union does, without RENAME_EXCHANGE). Default: as `renameFlags`. */
  readonly renameNoreplace?: boolean;
  /** chown works (to the same owner always; to 1234:1234 when the tests run as root). */
  readonly chown?: boolean;
  /** link() makes hard links. */
  readonly hardLinks?: boolean;
  /** Offsets and sizes beyond 4 GiB (sparse). */
  readonly largeFiles?: boolean;
  /** symlink() / readlink() and symlink following. */
  readonly symlinks?: boolean;
  /**
   * Opening a FIFO made by mknod gives a kernel pipe (the objects are the host kernel's: a local directory, a FUSE
   * mount). Default false: libcephfs stores FIFOs but cannot open them as pipes.
   */
  readonly fifoIo?: boolean;
  /**
   * mknod makes character and block devices. Default: when the tests run as root (CAP_MKNOD); false expects EPERM,
   * as mknod(2) answers a caller without the privilege.
   */
  readonly devices?: boolean;
  /**
   * Paths longer than one syscall argument (PATH_MAX), up to DANAUS_PATH_MAX: the FileSystem contract. Default true;
   * false where every call is one kernel syscall on a whole path (node:fs), or goes through the LD_PRELOAD library
   * (which builds paths in PATH_MAX buffers on the caller's stack): both answer ENAMETOOLONG instead.
   */
  readonly deepPaths?: boolean;
}

/** How {@link runConformance} reaches the implementation under test. */
export interface ConformanceOptions {
  /** A new, empty filesystem instance; called once per test. */
  newFs(): Promise<ConformanceInstance>;
  readonly capabilities?: ConformanceCapabilities;
  /** Why the implementation lacks a capability, shown in the name of every case skipped for it. */
  readonly why?: Partial<Record<keyof ConformanceCapabilities, string>>;
}

/** The context every group of cases registers its tests with. */
export interface Suite {
  readonly caps: Required<ConformanceCapabilities>;
  /**
   * Registers a test that gets a fresh, empty filesystem; skipped unless every capability in `needs` is there, with
   * "[skipped: no <capability> (<why>)]" added to its name. `timeoutMs` overrides the file's default timeout.
   */
  it(name: string, body: (fs: FileSystem) => void | Promise<void>, needs?: readonly (keyof ConformanceCapabilities)[], timeoutMs?: number): void;
}

/** Builds the {@link Suite} for one implementation. */
export function makeSuite(options: ConformanceOptions): Suite {
  const caps: Required<ConformanceCapabilities> = {
    renameFlags: false,
    renameNoreplace: options.capabilities?.renameFlags ?? false,
    chown: true,
    hardLinks: true,
    largeFiles: true,
    symlinks: true,
    fifoIo: false,
    devices: process.getuid?.() === 0,
    deepPaths: true,
    ...options.capabilities,
  };
  return {
    caps,
    it(name, body, needs = [], timeoutMs) {
      const run = async () => {
        const instance = await options.newFs();
        try {
          await body(instance.fs);
        } finally {
          await instance.cleanup();
        }
      };
      const missing = needs.filter((need) => !caps[need]);
      if (missing.length === 0) test(name, run, timeoutMs);
      else test.skip(`${name} [skipped: ${missing.map((need) => `no ${need}${options.why?.[need] ? ` (${options.why[need]})` : ""}`).join("; ")}]`, run);
    },
  };
}

/** Linux open flags, file types and access modes, from `node:fs`. */
export const {
  O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, O_NOFOLLOW,
  S_IFMT, S_IFREG, S_IFDIR, S_IFLNK, F_OK, R_OK, W_OK, X_OK,
} = constants;

/** lseek whence values. */
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;
/** renameat2 flags. */
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
/** The chown/utimens flag acting on a final symlink itself. */
export const AT_SYMLINK_NOFOLLOW = 0x100;

/** Asserts that `call` throws an {@link FsError} with errno `code`. */
export function expectErrno(code: ErrnoName, call: () => unknown): void {
  let thrown: unknown;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) throw new Error(`expected ${code}, but the call succeeded`);
  if (!(thrown instanceof FsError)) throw new Error(`expected FsError ${code}, got ${String(thrown)}`);
  expect(thrown.code).toBe(code);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** `data` decoded as UTF-8. */
export function text(data: Uint8Array): string {
  return decoder.decode(data);
}

/** Creates (or truncates) `path` holding `content`. */
export function writeFile(fs: FileSystem, path: string, content: string | Uint8Array, mode = 0o644): void {
  const fd = fs.open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
  try {
    const data = typeof content === "string" ? bytes(content) : content;
    let done = 0;
    while (done < data.length) done += fs.pwrite(fd, data.subarray(done), done);
  } finally {
    fs.close(fd);
  }
}

/** The whole content of `path`. */
export function readBytes(fs: FileSystem, path: string): Uint8Array {
  const fd = fs.open(path, O_RDONLY, 0);
  try {
    return readAll(fs, fd, 0);
  } finally {
    fs.close(fd);
  }
}

/** The whole content of `path` as text. */
export function readFile(fs: FileSystem, path: string): string {
  return text(readBytes(fs, path));
}

/** Everything from `offset` to the end of the open file `fd`, by pread. */
export function readAll(fs: FileSystem, fd: number, offset: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const chunk = new Uint8Array(65536);
    const count = fs.pread(fd, chunk, offset + total);
    if (count === 0) break;
    chunks.push(chunk.subarray(0, count));
    total += count;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** The file type bits of a `st_mode`. */
export function fileType(mode: number): number {
  return mode & S_IFMT;
}

/** Every entry of the directory `path` (without "." and ".."), read batch by batch through its cookies. */
export function listDirectory(fs: FileSystem, path: string): Dirent[] {
  const fd = fs.open(path, constants.O_RDONLY | constants.O_DIRECTORY, 0);
  try {
    return readWholeDirectory(fs, fd);
  } finally {
    fs.close(fd);
  }
}

/** The names in the directory `path`, sorted. */
export function listNames(fs: FileSystem, path: string): string[] {
  return listDirectory(fs, path).map((entry) => entry.name).sort();
}
