/**
 * @module import-directory — a root file system directory on this host written as one layer: directories, files,
 * symlinks, modes, owners (as root), times; files hard-linked to each other inside the tree stay hard links; an
 * overlayfs whiteout (a 0:0 character device, as in an overlayfs upper directory) becomes an OCI `.wh.<name>` file.
 * Names and symlink targets are read and written as their exact bytes (byte strings, see names.ts of the protocol).
 */
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type BigIntStats } from "node:fs";
import { bytesToName, escapeName, FsError, nameFromText, nameToBytes } from "../ipc/protocol/index.ts";
import { ImageError } from "./image-error.ts";
import type { EntryMeta, LayerWriter } from "./layer-writer.ts";

const CHUNK = 1 << 20;
const NS = 1_000_000_000n;

/** What the directory held beyond what the writer counted. */
export interface DirectoryLayerResult {
  /** sha256 over the tree's entries in name order (path, type, mode, owner, mtime, content or link target). */
  readonly digest: string;
  /** Entries a layer cannot hold (sockets, devices, FIFOs), as "path (type)". */
  readonly skipped: string[];
}

function meta(stat: BigIntStats): EntryMeta {
  const time = (ns: bigint) => ({ sec: Number(ns / NS), nsec: Number(ns % NS) });
  return { mode: Number(stat.mode & 0o7777n), uid: Number(stat.uid), gid: Number(stat.gid), mtime: time(stat.mtimeNs), atime: time(stat.atimeNs) };
}

function kind(stat: BigIntStats): string {
  return stat.isSocket() ? "socket" : stat.isFIFO() ? "fifo" : stat.isCharacterDevice() ? "char" : stat.isBlockDevice() ? "block" : "other";
}

/**
 * Copies the tree at the host directory `source` through `writer`. Throws ImageError "not-found" when `source` is
 * not a directory, "io" when the host or the backend refuses something (naming the path).
 */
export function writeDirectoryLayer(writer: LayerWriter, source: string): DirectoryLayerResult {
  const hasher = new Bun.CryptoHasher("sha256");
  const skipped: string[] = [];
  const linked = new Map<string, string>();
  const buffer = new Uint8Array(CHUNK);

  const base = nameFromText(source);
  const visit = (path: string, stat: BigIntStats): void => {
    const host = nameToBytes(path === "" ? base : `${base}/${path}`);
    const m = meta(stat);
    const record = (type: string) => hasher.update(`${type} ${path} ${m.mode.toString(8)} ${m.uid}:${m.gid} ${m.mtime.sec}.${m.mtime.nsec}\0`);
    if (stat.isDirectory()) {
      record("dir");
      writer.directory(path, m);
      const names = readdirSync(host, { encoding: "buffer" }).map((name) => bytesToName(name)).sort();
      for (const name of names) {
        const child = path === "" ? name : `${path}/${name}`;
        visit(child, lstatSync(nameToBytes(`${base}/${child}`), { bigint: true }));
      }
    } else if (stat.isSymbolicLink()) {
      const target = bytesToName(readlinkSync(host, { encoding: "buffer" }));
      record("symlink");
      hasher.update(`${target}\0`);
      writer.symlink(path, target, m);
    } else if (stat.isFile()) {
      const key = `${stat.dev}:${stat.ino}`;
      const first = stat.nlink > 1n ? linked.get(key) : undefined;
      if (first !== undefined) {
        record("hardlink");
        hasher.update(`${first}\0`);
        writer.hardlink(path, first);
        return;
      }
      if (stat.nlink > 1n) linked.set(key, path);
      record("file");
      const fd = openSync(host, "r");
      try {
        writer.file(path, m, (write) => {
          for (let n; (n = readSync(fd, buffer, 0, CHUNK, null)) > 0; ) {
            const chunk = buffer.subarray(0, n);
            hasher.update(chunk);
            write(chunk);
          }
        });
      } finally {
        closeSync(fd);
      }
    } else if (stat.isCharacterDevice() && stat.rdev === 0n) {
      // An overlayfs whiteout (a 0:0 character device) becomes the OCI one the union reads.
      const slash = path.lastIndexOf("/");
      const whiteout = `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`;
      record("whiteout");
      writer.file(whiteout, m, () => {});
    } else {
      skipped.push(`${escapeName(path)} (${kind(stat)})`);
    }
  };

  let root: BigIntStats;
  try {
    root = lstatSync(source, { bigint: true });
  } catch {
    throw new ImageError("not-found", `${source}: no such file or directory`);
  }
  if (!root.isDirectory()) throw new ImageError("not-found", `${source}: not a directory`);
  try {
    visit("", root);
  } catch (error) {
    if (error instanceof FsError) throw new ImageError("io", `${source}: the backend refused ${escapeName(error.path ?? "a write")}: ${error.message}`, { cause: error });
    if (error instanceof Error && "code" in error && "path" in error) {
      const where = Buffer.isBuffer(error.path) ? escapeName(bytesToName(error.path)) : String(error.path);
      throw new ImageError("io", `${source}: cannot read ${where}: ${error.message}`, { cause: error });
    }
    throw error;
  }
  writer.finish();
  return { digest: `sha256:${hasher.digest("hex")}`, skipped };
}
