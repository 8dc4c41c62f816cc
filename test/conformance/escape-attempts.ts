/**
 * @module test/conformance/escape-attempts — the mutations a confinement test tries through paths that would leave a
 * FileSystem's root, and a runner that reports which of them succeeded. Backend-neutral: it sees only FileSystem.
 */
import { FsError, type FileSystem } from "../../kernel/ipc/protocol/index.ts";
import { AT_SYMLINK_NOFOLLOW, O_CREAT, O_EXCL, O_RDWR, O_TRUNC, O_WRONLY, RENAME_EXCHANGE, writeFile } from "./harness.ts";

/** The root's own file that attempts rename or link onto an escaping path; {@link runEscapeAttempts} keeps it there. */
export const ESCAPE_SOURCE_FILE = "f";
/** The root's own directory that attempts rename into an escaping directory; {@link runEscapeAttempts} keeps it there. */
export const ESCAPE_SOURCE_DIR = "d";

/** One mutation through an escaping path: `what` names it ("unlink out/sentinel"); `run` makes the call and may return a handle. */
export interface EscapeAttempt {
  readonly what: string;
  run(): unknown;
}

/** Which escaping names {@link escapeAttempts} aims at, and what the implementation under test supports. */
export interface EscapeTargets {
  /** Paths that would name a file outside the root if resolution escaped it. */
  readonly paths: readonly string[];
  /** Paths that would name a directory outside the root (holding a subdirectory `dir`) if resolution escaped it. */
  readonly dirs: readonly string[];
  /** Also try RENAME_EXCHANGE of the root's own file with each path (only where rename honours flags). Default false. */
  readonly renameFlags?: boolean;
}

/**
 * The labelled mutations to try against `fs`, in a fixed order: for each of `targets.paths`, open with O_TRUNC and
 * O_CREAT, truncate, chmod, chown and lchown, utimens, unlink, rmdir, rename from and onto it (and exchange with it
 * when `renameFlags`), link from and onto it, symlink and mkdir at it; for each of `targets.dirs`, create a file, a
 * directory and a symlink in it, rename into it, rmdir its `dir` and chmod it. Nothing runs until the caller does.
 */
export function escapeAttempts(fs: FileSystem, targets: EscapeTargets): EscapeAttempt[] {
  const attempts: EscapeAttempt[] = [];
  const add = (what: string, run: () => unknown) => attempts.push({ what, run });
  const f = ESCAPE_SOURCE_FILE;
  for (const path of targets.paths) {
    add(`open O_TRUNC ${path}`, () => fs.open(path, O_WRONLY | O_TRUNC, 0));
    add(`open O_CREAT ${path}`, () => fs.open(path, O_CREAT | O_RDWR, 0o666));
    add(`truncate ${path}`, () => fs.truncate(path, 0));
    add(`chmod ${path}`, () => fs.chmod(path, 0o777));
    add(`chown ${path}`, () => fs.chown(path, 1234, 1234, 0));
    add(`lchown ${path}`, () => fs.chown(path, 1234, 1234, AT_SYMLINK_NOFOLLOW));
    add(`utimens ${path}`, () => fs.utimens(path, { sec: 1, nsec: 0 }, { sec: 1, nsec: 0 }, 0));
    add(`unlink ${path}`, () => fs.unlink(path));
    add(`rmdir ${path}`, () => fs.rmdir(path));
    add(`rename from ${path}`, () => fs.rename(path, "stolen", 0));
    add(`rename onto ${path}`, () => fs.rename(f, path, 0));
    if (targets.renameFlags === true) add(`exchange ${path}`, () => fs.rename(f, path, RENAME_EXCHANGE));
    add(`link from ${path}`, () => fs.link(path, "stolen-link"));
    add(`link onto ${path}`, () => fs.link(f, path));
    add(`symlink at ${path}`, () => fs.symlink("x", path));
    add(`mkdir ${path}`, () => fs.mkdir(path, 0o777));
  }
  for (const dir of targets.dirs) {
    add(`create in ${dir}`, () => fs.open(`${dir}/new`, O_CREAT | O_EXCL | O_WRONLY, 0o644));
    add(`mkdir in ${dir}`, () => fs.mkdir(`${dir}/newdir`, 0o755));
    add(`symlink in ${dir}`, () => fs.symlink("x", `${dir}/link`));
    add(`rename into ${dir}`, () => fs.rename(ESCAPE_SOURCE_DIR, `${dir}/moved`, 0));
    add(`rmdir ${dir}/dir`, () => fs.rmdir(`${dir}/dir`));
    add(`chmod ${dir}`, () => fs.chmod(dir, 0o777));
  }
  return attempts;
}

/** How {@link runEscapeAttempts} restores the root between attempts. */
export interface EscapeRunOptions {
  /** Puts back the root's escaping symlinks that an earlier attempt removed or moved; called before every attempt. */
  replant(): void;
}

/**
 * Runs every attempt in order against a restored root: before each, calls `options.replant()` and creates
 * {@link ESCAPE_SOURCE_FILE} and {@link ESCAPE_SOURCE_DIR} again if missing; closes any handle an attempt returns.
 * Returns the `what` of every attempt that did not throw, in order. An FsError counts as refused; any other
 * exception is a bug and propagates. The caller then asserts that nothing outside the root changed and that only
 * harmless attempts (those acting on the root's own names) are in the list.
 */
export function runEscapeAttempts(fs: FileSystem, attempts: readonly EscapeAttempt[], options: EscapeRunOptions): string[] {
  const ensure: [string, () => void][] = [
    [ESCAPE_SOURCE_FILE, () => writeFile(fs, ESCAPE_SOURCE_FILE, "mine")],
    [ESCAPE_SOURCE_DIR, () => fs.mkdir(ESCAPE_SOURCE_DIR, 0o755)],
  ];
  const succeeded: string[] = [];
  for (const { what, run } of attempts) {
    options.replant();
    for (const [name, make] of ensure) {
      try {
        fs.lstat(name);
      } catch {
        make();
      }
    }
    try {
      const fd = run();
      if (typeof fd === "number") fs.close(fd);
      succeeded.push(what);
    } catch (error) {
      if (!(error instanceof FsError)) throw error;
    }
  }
  return succeeded;
}
