/**
 * @module test/services/union/differential — the union against kernel overlayfs: the same seeded random operations
 * on both, the same errno (or success) after every step, the same visible tree at the end.
 *
 * Replay a failure with `DANAUS_UNION_SEED=<seed> bun test test/services/union/differential.test.ts`
 * (DANAUS_UNION_STEPS changes the step count). Needs root and overlayfs: skipped with a printed reason otherwise,
 * failed instead under CI=true.
 *
 * Exceptions — where the union deliberately differs from overlayfs (the module comment of
 * services/union/union-file-system.ts lists them), the generator stays away:
 * - no name starts with `.wh.` (the union answers EINVAL) and none is longer than 251 bytes (no room for `.wh.`);
 * - no symlink target is absolute or climbs with ".." (the union resolves them at its own root);
 * - no special files (mknod is not among the generated operations), no RENAME_EXCHANGE (the union answers EINVAL);
 * - st_ino, st_dev, directory sizes and directory link counts are not compared, nor readdir cookies;
 * - every handle is closed within its step (a read-only handle held across a copy-up differs).
 * overlayfs runs with redirect_dir=on and index=on (nfs_export=off), which the union follows: directories with a
 * lower part are renamed (the union copies their tree up), and the lowers hold hard-linked files whose names keep
 * one file and one link count across copy-up, chmod, writes, unlinks and renames through any of them. A third run
 * sets the union's renameDir = "exdev" against overlayfs with redirect_dir=off (both answer EXDEV there).
 * Steps also use trailing slashes now and then, and compare file link counts. Two of the names are bytes that are not
 * UTF-8 (paths are byte strings, see names.ts; the kernel side passes them to node:fs as Buffers), so whiteouts, renames
 * and copy-ups of such names are compared too.
 */
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import * as nodeFs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend } from "../../../services/client-cache/backend/index.ts";
import { bytesToName, FsError, nameFromText, nameToBytes, type FileSystem } from "../../../kernel/ipc/protocol/index.ts";
import { createUnionShared, type RenameDir, UnionFileSystem } from "../../../services/union/index.ts";
import { DanausClient } from "../../../shims/ts/index.ts";
import { maskedMode } from "../../../shims/ts/umask.ts";
import { listNames } from "../../conformance/harness.ts";
import { isMountPoint } from "../../../kernel/sys/mounts.ts";
import { Harness, waitFor } from "../../integration/harness.ts";
import { mulberry32, type Random } from "./random.ts";

const SEED = Number(process.env.DANAUS_UNION_SEED ?? 20261125);
const STEPS = Number(process.env.DANAUS_UNION_STEPS ?? 5000);
const NAMES = ["a", "b", "c", "\xff", "e\xfe"];
const { O_CREAT, O_WRONLY, O_RDONLY, O_TRUNC, O_APPEND, O_EXCL, O_DIRECTORY, S_IFMT, S_IFDIR, S_IFLNK, S_IFREG } = nodeFs.constants;

/** One side of the comparison: every operation answers a printable outcome or throws its errno name. */
interface Side {
  create(path: string, flags: number, mode: number, data: Uint8Array): string;
  write(path: string, offset: number, data: Uint8Array, append: boolean): string;
  read(path: string): string;
  truncate(path: string, length: number): string;
  unlink(path: string): string;
  mkdir(path: string, mode: number): string;
  rmdir(path: string): string;
  rename(from: string, to: string): string;
  symlink(target: string, path: string): string;
  link(from: string, to: string): string;
  chmod(path: string, mode: number): string;
  readdir(path: string): string;
  stat(path: string): string;
  lstat(path: string): string;
  readlink(path: string): string;
}

function digest(data: Uint8Array): string {
  return `${data.length}:${Bun.hash(data).toString(16)}`;
}

function describeMode(mode: number, size: number, nlink: number): string {
  const type = mode & S_IFMT;
  const kind = type === S_IFDIR ? "d" : type === S_IFLNK ? "l" : type === S_IFREG ? "f" : "?";
  return `${kind}${(mode & 0o7777).toString(8)}${type === S_IFDIR ? "" : `:${size}:${nlink}`}`;
}

/** The kernel side: node:fs on the overlay mount. */
function kernelSide(mount: string): Side {
  const at = (path: string) => nameToBytes(`${nameFromText(mount)}/${path}`);
  return {
    create(path, flags, mode, data) {
      const fd = nodeFs.openSync(at(path), flags, mode);
      try {
        nodeFs.writeSync(fd, data, 0, data.length, 0);
      } finally {
        nodeFs.closeSync(fd);
      }
      return "ok";
    },
    write(path, offset, data, append) {
      const fd = nodeFs.openSync(at(path), O_WRONLY | (append ? O_APPEND : 0));
      try {
        return `ok ${nodeFs.writeSync(fd, data, 0, data.length, offset)}`;
      } finally {
        nodeFs.closeSync(fd);
      }
    },
    read(path) {
      return `ok ${digest(nodeFs.readFileSync(at(path)))}`;
    },
    truncate(path, length) {
      nodeFs.truncateSync(at(path), length);
      return "ok";
    },
    unlink: (path) => (nodeFs.unlinkSync(at(path)), "ok"),
    mkdir: (path, mode) => (nodeFs.mkdirSync(at(path), mode), "ok"),
    rmdir: (path) => (nodeFs.rmdirSync(at(path)), "ok"),
    rename: (from, to) => (nodeFs.renameSync(at(from), at(to)), "ok"),
    symlink: (target, path) => (nodeFs.symlinkSync(nameToBytes(target), at(path)), "ok"),
    link: (from, to) => (nodeFs.linkSync(at(from), at(to)), "ok"),
    chmod: (path, mode) => (nodeFs.chmodSync(at(path), mode), "ok"),
    readdir: (path) => `ok ${nodeFs.readdirSync(at(path), { encoding: "buffer" }).map((name) => bytesToName(name)).sort().join(",")}`,
    stat(path) {
      const st = nodeFs.statSync(at(path));
      return `ok ${describeMode(st.mode, st.size, st.nlink)}`;
    },
    lstat(path) {
      const st = nodeFs.lstatSync(at(path));
      return `ok ${describeMode(st.mode, st.size, st.nlink)}`;
    },
    readlink: (path) => `ok ${bytesToName(nodeFs.readlinkSync(at(path), { encoding: "buffer" }))}`,
  };
}


function readWhole(fs: FileSystem, path: string): Uint8Array {
  const fd = fs.open(path, O_RDONLY, 0);
  try {
    const chunks: Uint8Array[] = [];
    for (let offset = 0; ; ) {
      const chunk = new Uint8Array(65536);
      const count = fs.pread(fd, chunk, offset);
      if (count === 0) break;
      chunks.push(chunk.subarray(0, count));
      offset += count;
    }
    return Buffer.concat(chunks);
  } finally {
    fs.close(fd);
  }
}

/** The union side. */
function unionSide(fs: FileSystem): Side {
  return {
    create(path, flags, mode, data) {
      const fd = fs.open(path, flags, mode);
      try {
        fs.pwrite(fd, data, 0);
      } finally {
        fs.close(fd);
      }
      return "ok";
    },
    write(path, offset, data, append) {
      const fd = fs.open(path, O_WRONLY | (append ? O_APPEND : 0), 0);
      try {
        return `ok ${fs.pwrite(fd, data, offset)}`;
      } finally {
        fs.close(fd);
      }
    },
    read: (path) => `ok ${digest(readWhole(fs, path))}`,
    truncate: (path, length) => (fs.truncate(path, length), "ok"),
    unlink: (path) => (fs.unlink(path), "ok"),
    mkdir: (path, mode) => (fs.mkdir(path, mode), "ok"),
    rmdir: (path) => (fs.rmdir(path), "ok"),
    rename: (from, to) => (fs.rename(from, to, 0), "ok"),
    symlink: (target, path) => (fs.symlink(target, path), "ok"),
    link: (from, to) => (fs.link(from, to), "ok"),
    chmod: (path, mode) => (fs.chmod(path, mode), "ok"),
    readdir: (path) => `ok ${listNames(fs, path).join(",")}`,
    stat(path) {
      const st = fs.stat(path);
      return `ok ${describeMode(st.st_mode, st.st_size, st.st_nlink)}`;
    },
    lstat(path) {
      const st = fs.lstat(path);
      return `ok ${describeMode(st.st_mode, st.st_size, st.st_nlink)}`;
    },
    readlink: (path) => `ok ${fs.readlink(path)}`,
  };
}

/** Runs `call`, turning an errno failure (Node's or the union's) into "E..." and letting anything else through. */
function outcome(call: () => string): string {
  try {
    return call();
  } catch (error) {
    if (error instanceof FsError) return error.code;
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("E")) return code;
    throw error;
  }
}

function randomPath(random: Random, slash = false): string {
  const depth = 1 + random.int(3);
  const parts: string[] = [];
  for (let i = 0; i < depth; i++) parts.push(random.pick(NAMES));
  return parts.join("/") + (slash && random.int(20) === 0 ? "/" : "");
}

function randomData(random: Random): Uint8Array {
  const data = new Uint8Array(random.int(3) === 0 ? 0 : random.int(5000));
  for (let i = 0; i < data.length; i++) data[i] = random.int(256);
  return data;
}

/**
 * A seeded lower tree of directories, files, hard links of files (kept by `cp -a`) and symlinks under `root`. The
 * union paths of its directories and of its hard-linked names go to `focus`, which steps pick from now and then.
 */
function buildLower(root: string, random: Random, focus: string[]): void {
  nodeFs.mkdirSync(root, { recursive: true });
  const files: Buffer[] = [];
  const dirs: string[] = [nameFromText(root)];
  for (let i = 0; i < 60; i++) {
    const text = `${nameFromText(root)}/${randomPath(random)}`;
    const path = nameToBytes(text);
    const kind = random.int(10);
    try {
      if (kind < 4) {
        nodeFs.mkdirSync(path, { recursive: true, mode: random.pick([0o755, 0o700, 0o775]) });
        dirs.push(text);
        focus.push(text.slice(nameFromText(root).length + 1));
      } else if (kind < 9) {
        nodeFs.writeFileSync(path, randomData(random), { mode: random.pick([0o644, 0o600, 0o755]) });
        files.push(path);
      } else nodeFs.symlinkSync(nameToBytes(random.pick(NAMES)), path);
    } catch {
      // A file or symlink on the way: that entry is just not made.
    }
  }
  // Hard links: more names for some of the files, in directories that exist.
  for (let i = 0; i < 20 && files.length > 0; i++) {
    try {
      const file = random.pick(files);
      const link = `${random.pick(dirs)}/${random.pick(NAMES)}`;
      nodeFs.linkSync(file, nameToBytes(link));
      focus.push(bytesToName(file).slice(nameFromText(root).length + 1), link.slice(nameFromText(root).length + 1));
    } catch {
      // The name is taken: no link.
    }
  }
}

/** One random step on a side; both sides get the same `step` object. */
interface Step {
  readonly label: string;
  run(side: Side): string;
}

/** A step's path: one of `focus` (a lower directory or hard-linked name) one time in four, else a random path. */
function stepPath(random: Random, focus: readonly string[]): string {
  return focus.length > 0 && random.int(4) === 0 ? random.pick(focus) : randomPath(random, true);
}

function randomStep(random: Random, focus: readonly string[]): Step {
  const path = stepPath(random, focus);
  const other = stepPath(random, focus);
  const choice = random.int(100);
  if (choice < 12) {
    const flags = O_CREAT | O_WRONLY | (random.int(2) ? O_TRUNC : 0) | (random.int(5) === 0 ? O_EXCL : 0);
    const mode = random.pick([0o644, 0o600, 0o755]);
    const data = randomData(random);
    return { label: `create ${path} flags=${flags.toString(8)} mode=${mode.toString(8)} len=${data.length}`, run: (s) => s.create(path, flags, mode, data) };
  }
  if (choice < 20) {
    const append = random.int(2) === 0;
    const offset = random.int(6000);
    const data = randomData(random);
    return { label: `${append ? "append" : "write"} ${path} @${offset} len=${data.length}`, run: (s) => s.write(path, offset, data, append) };
  }
  if (choice < 26) return { label: `read ${path}`, run: (s) => s.read(path) };
  if (choice < 32) {
    const length = random.pick([0, 1, 100, 4000, 9000]);
    return { label: `truncate ${path} ${length}`, run: (s) => s.truncate(path, length) };
  }
  if (choice < 42) return { label: `unlink ${path}`, run: (s) => s.unlink(path) };
  if (choice < 50) {
    const mode = random.pick([0o755, 0o700, 0o775]);
    return { label: `mkdir ${path} ${mode.toString(8)}`, run: (s) => s.mkdir(path, mode) };
  }
  if (choice < 58) return { label: `rmdir ${path}`, run: (s) => s.rmdir(path) };
  if (choice < 68) return { label: `rename ${path} ${other}`, run: (s) => s.rename(path, other) };
  if (choice < 72) {
    const target = random.int(2) ? random.pick(NAMES) : randomPath(random);
    return { label: `symlink ${target} ${path}`, run: (s) => s.symlink(target, path) };
  }
  if (choice < 76) return { label: `link ${path} ${other}`, run: (s) => s.link(path, other) };
  if (choice < 80) {
    const mode = random.pick([0o644, 0o600, 0o755, 0o700, 0o4755]);
    return { label: `chmod ${path} ${mode.toString(8)}`, run: (s) => s.chmod(path, mode) };
  }
  if (choice < 87) {
    const dir = random.int(4) === 0 ? "." : randomPath(random).split("/").slice(0, -1).join("/") || ".";
    return { label: `readdir ${dir}`, run: (s) => s.readdir(dir) };
  }
  if (choice < 93) return { label: `stat ${path}`, run: (s) => s.stat(path) };
  if (choice < 97) return { label: `lstat ${path}`, run: (s) => s.lstat(path) };
  return { label: `readlink ${path}`, run: (s) => s.readlink(path) };
}

/** Every visible entry under the root of `side`, as sorted lines (names, types, modes, sizes, contents, targets). */
function snapshot(side: Side, dir = ""): string[] {
  const listing = side.readdir(dir === "" ? "." : dir);
  if (!listing.startsWith("ok")) return [`${dir} ${listing}`];
  const names = listing.slice(3).split(",").filter((name) => name !== "");
  const lines: string[] = [];
  for (const name of names) {
    const path = dir === "" ? name : `${dir}/${name}`;
    const kind = side.lstat(path);
    lines.push(`${path} ${kind}`);
    if (kind.startsWith("ok d")) lines.push(...snapshot(side, path));
    else if (kind.startsWith("ok l")) lines.push(`${path} -> ${side.readlink(path)}`);
    else lines.push(`${path} ${outcome(() => side.read(path))}`);
  }
  return lines;
}

const base = nodeFs.mkdtempSync(join(tmpdir(), "danaus-union-diff-"));
const mounts: string[] = [];

afterAll(() => {
  for (const mount of mounts) if (spawnSync("umount", [mount]).status !== 0) spawnSync("umount", ["-l", mount]);
  nodeFs.rmSync(base, { recursive: true, force: true });
});

/**
 * Mounts overlayfs over `lowers` (top first) for the kernel side, with redirect_dir on for the union's
 * renameDir = "copy-up" and off for "exdev"; returns why it cannot, or null when mounted.
 */
function mountOverlay(lowers: readonly string[], upper: string, work: string, mount: string, renameDir: RenameDir): string | null {
  if (process.getuid?.() !== 0) return "not root";
  for (const dir of [upper, work, mount]) nodeFs.mkdirSync(dir, { recursive: true });
  const redirect = renameDir === "copy-up" ? "on" : "off";
  const options = `lowerdir=${lowers.join(":")},upperdir=${upper},workdir=${work},redirect_dir=${redirect},index=on,nfs_export=off,xino=off,metacopy=off`;
  const result = spawnSync("mount", ["-t", "overlay", "overlay", "-o", options, mount], { encoding: "utf8" });
  if (result.status !== 0) return `overlay mount failed: ${result.stderr.trim() || result.error?.message || `status ${result.status}`}`;
  mounts.push(mount);
  return null;
}

/** Builds `lowerCount` seeded lower trees, mounts overlayfs on one copy, the union on the other, and compares. */
/** Where the union under test runs: in this process over local branches, or in a tenant of its own (see {@link ourUnion}). */
type Placement = "in-process" | "fully split" | "fully split, through the kernel";

/**
 * The union over `dir/u`'s upper and lowers: in this process (LocalBackends), or "fully split": a real supervisor whose
 * tenant has `dir/u` as its local backend and runs ipc-router, union and client-cache each in a process of its own, so
 * every step crosses router → union → client-cache over shared-memory channels (issue 14); "through the kernel", the
 * same with fuse-legacy in a fourth process and the union mount `legacy`, so every step is a system call on its FUSE
 * mount (kernel → fuse-legacy → router → union → client-cache), compared through node:fs as overlayfs is.
 */
async function ourUnion(placement: Placement, dir: string, lowerNames: readonly string[], renameDir: RenameDir): Promise<{ fs?: FileSystem; side?: Side; close(): Promise<void> }> {
  if (placement === "in-process") {
    const upper = new LocalBackend(join(dir, "u", "upper"));
    const lowers = lowerNames.map((name) => new LocalBackend(join(dir, "u", name)));
    const union = new UnionFileSystem({ upper, lowers }, createUnionShared(), { renameDir });
    return {
      fs: union,
      async close() {
        upper.dispose();
        for (const lower of lowers) lower.dispose();
      },
    };
  }
  const kernelPath = placement === "fully split, through the kernel";
  const h = new Harness({ tenants: {} });
  const mountPath = kernelPath ? join(h.dir, "fuse") : "/mnt/test/differential";
  const tenant = [
    `name = "alpha"`, `cpus = [0]`, `memory = "512MiB"`, `shareCpus = true`,
    `topology = [["ipc-router"], ["union"], ["client-cache"]${kernelPath ? `, ["fuse-legacy"]` : ""}]`,
    `[backend]`, `kind = "local"`, `root = ${JSON.stringify(join(dir, "u"))}`,
    `[[mounts]]`, `path = ${JSON.stringify(mountPath)}`, `upper = "upper"`, `lowers = ${JSON.stringify(lowerNames)}`, `renameDir = "${renameDir}"`,
    ...(kernelPath ? [`legacy = true`] : []),
  ].join("\n");
  h.writeTenant("alpha", tenant);
  await h.start(["alpha"]);
  if (kernelPath) {
    await waitFor("the legacy union mount", () => isMountPoint(mountPath), 30_000);
    return { side: kernelSide(mountPath), close: () => h.stop() };
  }
  const client = DanausClient.connect({ socket: join(h.dir, "state/run/alpha/router.sock") });
  const ring = client.fileSystem("/mnt/test/differential");
  // The kernel applies this process's umask to the overlayfs side's creates (and the in-process backends' syscalls
  // get it too); the tenant service applies none, so the modes are masked here as an application's client does.
  const fs = Object.create(ring) as FileSystem;
  fs.open = (path, flags, mode) => ring.open(path, flags, maskedMode(mode));
  fs.mkdir = (path, mode) => ring.mkdir(path, maskedMode(mode));
  return {
    fs,
    async close() {
      client.disconnect();
      await h.stop();
    },
  };
}

async function differential(lowerCount: number, renameDir: RenameDir = "copy-up", placement: Placement = "in-process"): Promise<void> {
  const seed = SEED + lowerCount - 1;
  const random = mulberry32(seed);
  const focus: string[] = [];
  const dir = join(base, `lowers-${lowerCount}-${renameDir}-${placement.replace(/[^a-z]+/g, "-")}`);
  const lowerNames = Array.from({ length: lowerCount }, (_, i) => `lower${i}`);
  for (const name of lowerNames) {
    const source = join(dir, "src", name);
    buildLower(source, random, focus);
    // cp -a copies names byte for byte (node's cpSync would read them as UTF-8 text).
    for (const copy of ["k", "u"]) {
      nodeFs.mkdirSync(join(dir, copy), { recursive: true });
      expect(spawnSync("cp", ["-a", source, join(dir, copy, name)]).status).toBe(0);
    }
  }
  const why =
    placement === "fully split, through the kernel" && !nodeFs.existsSync("/dev/fuse")
      ? "no /dev/fuse for the legacy mount"
      : mountOverlay(lowerNames.map((name) => join(dir, "k", name)), join(dir, "k", "upper"), join(dir, "k", "work"), join(dir, "k", "merged"), renameDir);
  if (why !== null) {
    if (process.env.CI === "true") throw new Error(`differential test cannot run under CI: ${why}`);
    process.stderr.write(`union differential test skipped: ${why}\n`);
    return;
  }
  const union = await ourUnion(placement, dir, lowerNames, renameDir);
  const kernel = kernelSide(join(dir, "k", "merged"));
  const ours = union.side ?? unionSide(union.fs!);
  const history: string[] = [];
  const tally = new Map<string, number>();
  const replay = `DANAUS_UNION_SEED=${SEED} bun test test/services/union/differential.test.ts -t '${renameDir === "exdev" ? "exdev" : `overlayfs over ${lowerCount} lower`}'`;
  try {
    for (let step = 0; step < STEPS; step++) {
      const op = randomStep(random, focus);
      const expected = outcome(() => op.run(kernel));
      const actual = outcome(() => op.run(ours));
      history.push(`${step}: ${op.label} -> ${expected}`);
      const words = op.label.split(" ");
      // Steps on a lower directory or hard-linked name (of the original lowers) are tallied apart.
      const focused = focus.includes(words[1]!.replace(/\/$/, "")) ? " (lower dir or hard link)" : "";
      const kind = `${words[0]} ${expected.startsWith("ok") ? "ok" : expected}${focused}`;
      tally.set(kind, (tally.get(kind) ?? 0) + 1);
      if (expected !== actual) {
        throw new Error(
          `seed ${seed} (DANAUS_UNION_SEED=${SEED}, ${lowerCount} lower, renameDir ${renameDir}) step ${step}: ${op.label}: overlayfs ${expected}, union ${actual}\n` +
            `replay: ${replay}\nlast steps:\n${history.slice(-12).join("\n")}`,
        );
      }
    }
    const final = snapshot(kernel);
    expect(snapshot(ours)).toEqual(final);
    if (process.env.DANAUS_UNION_TALLY) {
      const walk = (root: string): string[] => (spawnSync("find", [root], { encoding: "buffer" }).stdout.toString("latin1").split("\n").filter((p) => p !== ""));
      const linked = lowerNames.flatMap((name) => walk(join(dir, "u", name))).filter((p) => { const st = nodeFs.lstatSync(Buffer.from(p, "latin1")); return st.isFile() && st.nlink > 1; });
      const upperPaths = walk(join(dir, "u", "upper"));
      const indexed = upperPaths.filter((p) => /\.wh\.\.wh\.index\/[0-9]+\.[0-9]+$/.test(p));
      const opaque = upperPaths.filter((p) => p.endsWith("/.wh..wh..opq"));
      process.stderr.write(`${[...tally].sort().map(([k, v]) => `${k}: ${v}`).join("\n")}\n${final.join("\n")}\n`);
      process.stderr.write(`lower names of hard-linked files: ${linked.length}; index entries: ${indexed.length}; opaque upper dirs: ${opaque.length}\n`);
    }
  } finally {
    await union.close();
  }
}

test(`the union answers like overlayfs over 1 lower (seed ${SEED}, ${STEPS} steps)`, () => differential(1), 60_000);
test(`the union answers like overlayfs over 2 lowers (seed ${SEED}, ${STEPS} steps)`, () => differential(2), 60_000);
test(`renameDir = "exdev": the union answers like overlayfs with redirect_dir=off over 2 lowers (seed ${SEED}, ${STEPS} steps)`, () => differential(2, "exdev"), 60_000);
test(`fully split topology (router → union → client-cache processes): the union answers like overlayfs over 2 lowers (seed ${SEED}, ${STEPS} steps)`, () => differential(2, "copy-up", "fully split"), 180_000);
test(`fully split topology through a legacy FUSE mount (kernel → fuse-legacy → router → union → client-cache): the union answers like overlayfs over 2 lowers (seed ${SEED}, ${STEPS} steps)`, () => differential(2, "copy-up", "fully split, through the kernel"), 240_000);
