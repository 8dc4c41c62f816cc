/** Test fixtures of the image tests: a host config with one local-backend tenant, a source tree, and tars of it made by the system `tar`. */
import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findTenant, type TenantRef } from "../../../kernel/images/index.ts";

/** A 110-character directory name and a 120-character file name: together past ustar's 100 + 155 limits. */
export const LONG_DIR = "d".repeat(110);
export const LONG_FILE = "f".repeat(120);
/** A 150-character symlink target: past ustar's 100-character linkname (GNU "K" or PAX linkpath). */
export const LONG_TARGET = `${"t".repeat(145)}/dest`;

/** A temp host with tenant `t1` on a local backend (one direct mount); `dir` holds everything. */
export interface TestHost {
  readonly dir: string;
  readonly hostFile: string;
  readonly tenantFile: string;
  /** The tenant's backend root directory. */
  readonly backendRoot: string;
  ref(): TenantRef;
  cleanup(): void;
}

/** Makes a host config `host.toml` with tenants/t1.toml (local backend state/t1, mount /mnt/danaus/t1/data). */
export function makeTestHost(): TestHost {
  const dir = mkdtempSync(join(tmpdir(), "danaus-images-"));
  mkdirSync(join(dir, "tenants"));
  writeFileSync(join(dir, "host.toml"), 'stateDir = "state"\ntenantsDir = "tenants"\n');
  const tenantFile = join(dir, "tenants", "t1.toml");
  writeFileSync(tenantFile, 'name = "t1"\ncpus = [0]\n\n[backend]\nkind = "local"\nroot = "t1"\n\n[[mounts]]\npath = "/mnt/danaus/t1/data"\nsource = "data"\n');
  const hostFile = join(dir, "host.toml");
  return { dir, hostFile, tenantFile, backendRoot: join(dir, "state", "t1"), ref: () => findTenant(hostFile, "t1"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Writes a small root file system at `root`: nested directories with unusual modes, a setuid file, two symlinks (one
 * with a long target), two hard-linked names, a long path, a whiteout `.wh.gone` and an opaque directory
 * `opq/.wh..wh..opq`; fixed mtimes.
 */
export function makeSourceTree(root: string): void {
  mkdirSync(join(root, "etc"), { recursive: true });
  mkdirSync(join(root, "usr", "bin"), { recursive: true });
  mkdirSync(join(root, LONG_DIR));
  mkdirSync(join(root, "opq"));
  writeFileSync(join(root, "etc", "hostname"), "clone\n");
  linkSync(join(root, "etc", "hostname"), join(root, "etc", "hostname.bak"));
  writeFileSync(join(root, "usr", "bin", "tool"), new Uint8Array(300_000).map((_, i) => i % 251));
  chmodSync(join(root, "usr", "bin", "tool"), 0o4755);
  symlinkSync("../../etc/hostname", join(root, "usr", "bin", "name"));
  symlinkSync(LONG_TARGET, join(root, "long-link"));
  writeFileSync(join(root, LONG_DIR, LONG_FILE), "long\n");
  writeFileSync(join(root, ".wh.gone"), "");
  writeFileSync(join(root, "opq", ".wh..wh..opq"), "");
  writeFileSync(join(root, "opq", "kept"), "kept\n");
  chmodSync(join(root, "usr", "bin"), 0o711);
  chmodSync(join(root, "etc"), 0o750);
  const when = new Date("2024-03-01T12:00:00Z");
  for (const path of walk(root).reverse()) if (!lstatSync(join(root, path)).isSymbolicLink()) utimesSync(join(root, path), when, when);
}

/** Every path under `root` ("" for root itself), parents before children, in name order. */
export function walk(root: string, at = ""): string[] {
  const out = [at];
  const here = at === "" ? root : join(root, at);
  if (!lstatSync(here).isDirectory()) return out;
  for (const name of readdirSync(here).sort()) out.push(...walk(root, at === "" ? name : `${at}/${name}`));
  return out;
}

/** One line per path under `root`: type, mode, owner, size, link target, content digest and (optionally) mtime in seconds. */
export function describeTree(root: string, options: { mtime: boolean } = { mtime: true }): string[] {
  return walk(root).map((path) => {
    const full = path === "" ? root : join(root, path);
    const s = lstatSync(full);
    const type = s.isDirectory() ? "d" : s.isSymbolicLink() ? "l" : "f";
    const extra = s.isSymbolicLink() ? readlinkSync(full) : s.isFile() ? String(Bun.hash(readFileSync(full))) : "";
    const time = options.mtime && !s.isSymbolicLink() ? ` ${Math.floor(s.mtimeMs / 1000)}` : "";
    return `${path || "."} ${type} ${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} ${s.isDirectory() ? "-" : s.size} ${extra}${time}`;
  });
}

/** Runs the system `tar` with `args` in `cwd`; throws with its stderr when it fails. */
export function systemTar(cwd: string, ...args: string[]): void {
  const r = Bun.spawnSync(["tar", ...args], { cwd, stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`tar ${args.join(" ")}: ${r.stderr.toString()}`);
}
