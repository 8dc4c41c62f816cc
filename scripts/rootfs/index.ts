/**
 * @module scripts/rootfs — a minimal root file system built from this host's own binaries, for chroot tests and the
 * start-up benchmark without downloading a distribution: /bin/sh and a few coreutils, optionally every file of some
 * installed Debian packages (e.g. lighttpd), each ELF file with its whole shared-library closure (from `ldd`, the
 * dynamic loader included, symlinks kept as the host has them), plus the few /etc files and directories programs
 * expect. A debootstrap'd tree is imported the same way: `danaus image import <tenant> <name> <dir>`.
 */
import { chmodSync, existsSync, mkdirSync, openSync, readdirSync, readSync, closeSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copyHostPath, type CopyState } from "./host-copy.ts";
import { libraryClosure } from "./ldd.ts";
import { RootfsError } from "./rootfs-error.ts";

export { RootfsError, type RootfsErrorKind } from "./rootfs-error.ts";
export { LddError, libraryClosure, parseLdd } from "./ldd.ts";

/** The programs every tree gets (looked up in the host's PATH), besides /bin/sh. */
export const DEFAULT_PROGRAMS: readonly string[] = ["dash", "cat", "echo", "ls", "sha256sum", "env", "mkdir", "rm", "head", "wc", "sleep", "true", "id"];

/** What to put in the tree. */
export interface RootfsOptions {
  /** Extra programs, by name (found in the host's PATH) or absolute path. */
  readonly programs?: readonly string[];
  /** Installed Debian packages to copy whole (every file `dpkg -L` lists), with their libraries. */
  readonly packages?: readonly string[];
}

/** What was built. */
export interface RootfsResult {
  readonly dir: string;
  /** Host files and symlinks copied (the /etc files written here are not counted). */
  readonly files: number;
  readonly bytes: number;
  /** Every shared library and loader copied, host paths with symlinks resolved, sorted. */
  readonly libraries: readonly string[];
}

const HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function isElf(path: string): boolean {
  if (!statSync(path).isFile()) return false;
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return false;
  }
  try {
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.toString("latin1") === "\x7fELF";
  } finally {
    closeSync(fd);
  }
}

function programPath(name: string): string {
  if (name.startsWith("/")) return name;
  const found = Bun.which(name, { PATH: HOST_PATH });
  if (found === null) throw new RootfsError("not-found", name, `no program "${name}" in ${HOST_PATH}`);
  return found;
}

function packageFiles(name: string): string[] {
  const r = Bun.spawnSync(["dpkg", "-L", name], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new RootfsError("not-found", name, `Debian package "${name}" is not installed (apt-get install -y ${name}): ${r.stderr.toString().trim()}`);
  // Lines like "diverted by ..." are not paths; "/." is the root itself.
  return r.stdout.toString().split("\n").filter((line) => line.startsWith("/") && line !== "/.");
}

/** The /etc files of a tree: users and groups for root, www-data and nobody; name service from files only. */
const ETC_FILES: Readonly<Record<string, string>> = {
  "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
  "etc/group": "root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n",
  "etc/nsswitch.conf": "passwd: files\ngroup: files\nshadow: files\nhosts: files\nservices: files\nprotocols: files\n",
  "etc/hosts": "127.0.0.1 localhost\n",
  "etc/hostname": "danaus\n",
};

/** Directories a tree gets, with their modes (mount points, scratch and state directories). */
const DIRECTORIES: readonly [string, number][] = [
  ["etc", 0o755], ["tmp", 0o1777], ["run", 0o755], ["var", 0o755], ["var/tmp", 0o1777], ["var/log", 0o755],
  ["var/cache", 0o755], ["root", 0o700], ["dev", 0o755], ["proc", 0o555], ["sys", 0o555], ["home", 0o755],
];

/**
 * Builds a root tree in `dir` (created if missing; it must be empty): /bin/sh, {@link DEFAULT_PROGRAMS}, the
 * options' programs and packages, each ELF file's libraries, and the /etc files and directories above.
 * Throws RootfsError: "exists" for a non-empty `dir`, "not-found" for a missing program, package or library,
 * "tool" when `ldd` fails; LddError when a library cannot be found.
 */
export function buildRootfs(dir: string, options: RootfsOptions = {}): RootfsResult {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new RootfsError("exists", dir, "the target directory is not empty");
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const state: CopyState = { root: dir, written: new Set(), bytes: 0 };
  const elves = new Set<string>();
  const add = (hostPath: string) => {
    const real = copyHostPath(state, hostPath);
    if (isElf(real)) elves.add(real);
  };
  for (const path of ["/bin/sh", ...[...DEFAULT_PROGRAMS, ...(options.programs ?? [])].map(programPath)]) add(path);
  for (const pkg of options.packages ?? []) {
    for (const path of packageFiles(pkg)) {
      // A listed file may be gone (a removed conffile); the package's own files are what matters.
      if (existsSync(path)) add(path);
    }
  }
  const libraries = new Set<string>();
  for (const elf of elves) {
    for (const lib of libraryClosure(elf)) libraries.add(copyHostPath(state, lib));
  }
  for (const [path, mode] of DIRECTORIES) {
    mkdirSync(join(dir, path), { recursive: true });
    chmodSync(join(dir, path), mode);
  }
  if (!existsSync(join(dir, "var/run"))) symlinkSync("../run", join(dir, "var/run"));
  for (const [path, text] of Object.entries(ETC_FILES)) writeFileSync(join(dir, path), text, { mode: 0o644 });
  return { dir, files: state.written.size, bytes: state.bytes, libraries: [...libraries].sort() };
}
