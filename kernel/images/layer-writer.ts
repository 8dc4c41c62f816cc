/**
 * @module layer-writer — writes one image layer into a directory of a FileSystem instance: directories, files,
 * symlinks and hard links with their modes, owners (when running as root) and times, as a tar extractor would. A
 * later entry for the same path replaces the earlier one. Directory modes and times are set last, deepest first,
 * so a read-only directory still takes its entries and its mtime is not changed by them.
 */
import {
  AT_SYMLINK_NOFOLLOW, type FileSystem, FsError, O, S_IFDIR, S_IFMT, type Timespec,
} from "../ipc/protocol/index.ts";
import { lstatOrNull, mkdirs, removeTree } from "./fs-tree.ts";


/** The metadata of one entry, from a tar header or a source file's lstat. */
export interface EntryMeta {
  /** Permission bits with setuid, setgid and sticky (0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: Timespec;
  /** The mtime when absent. */
  readonly atime?: Timespec;
}

/** Counts of what a layer received. */
export interface LayerCounts {
  files: number;
  directories: number;
  symlinks: number;
  hardlinks: number;
  bytes: number;
}

/** Seconds since the epoch (possibly fractional, as a PAX mtime) as a Timespec. */
export function timespec(seconds: number): Timespec {
  const sec = Math.floor(seconds);
  return { sec, nsec: Math.min(999_999_999, Math.round((seconds - sec) * 1e9)) };
}

/** Writes the entries of one layer under `root` (a directory path of `fs`, created if missing). */
export class LayerWriter {
  /** Directories whose mode and times are set by finish(), by path. */
  private readonly directories = new Map<string, EntryMeta>();
  /** What the layer received so far. */
  readonly counts: LayerCounts = { files: 0, directories: 0, symlinks: 0, hardlinks: 0, bytes: 0 };

  /**
   * @param fs the tenant's backend at its root
   * @param root the layer's directory, e.g. "/images/.base.partial/layer0"
   * @param chownEntries give entries their recorded owners (only root may; otherwise they belong to the importer)
   */
  constructor(
    private readonly fs: FileSystem,
    private readonly root: string,
    private readonly chownEntries: boolean,
  ) {
    mkdirs(fs, root, 0o755);
  }

  private full(path: string): string {
    return path === "" ? this.root : `${this.root}/${path}`;
  }

  /** Makes the parent directories of `path` (mode 0755 until an entry of theirs says otherwise). */
  private parents(path: string): void {
    const slash = path.lastIndexOf("/");
    if (slash > 0) mkdirs(this.fs, this.full(path.slice(0, slash)), 0o755);
  }

  /** Clears `path` for a new non-directory entry: whatever was there (a file, or a whole directory) goes. */
  private clear(path: string): void {
    this.parents(path);
    removeTree(this.fs, this.full(path));
    for (const dir of this.directories.keys()) if (dir === path || dir.startsWith(`${path}/`)) this.directories.delete(dir);
  }

  private owner(path: string, meta: EntryMeta, flags: number): void {
    if (this.chownEntries) this.fs.chown(this.full(path), meta.uid, meta.gid, flags);
  }

  private times(path: string, meta: EntryMeta, flags: number): void {
    this.fs.utimens(this.full(path), meta.atime ?? meta.mtime, meta.mtime, flags);
  }

  /** A directory at `path` ("" is the layer's root); an existing one keeps its entries and takes the new metadata. */
  directory(path: string, meta: EntryMeta): void {
    const existing = lstatOrNull(this.fs, this.full(path));
    if (existing !== null && (existing.st_mode & S_IFMT) !== S_IFDIR) this.fs.unlink(this.full(path));
    if (existing === null || (existing.st_mode & S_IFMT) !== S_IFDIR) {
      this.parents(path);
      this.fs.mkdir(this.full(path), 0o700);
    }
    this.owner(path, meta, 0);
    this.directories.set(path, meta);
    this.counts.directories++;
  }

  /**
   * A regular file at `path` whose bytes come from `fill`, called with a writer of consecutive chunks.
   * Returns the number of bytes written.
   */
  file(path: string, meta: EntryMeta, fill: (write: (chunk: Uint8Array) => void) => void): number {
    this.clear(path);
    const fd = this.fs.open(this.full(path), O.WRONLY | O.CREAT | O.EXCL, 0o600);
    let at = 0;
    try {
      fill((chunk) => {
        for (let done = 0; done < chunk.length; ) {
          const n = this.fs.pwrite(fd, chunk.subarray(done), at);
          if (n <= 0) throw new FsError(5 /* EIO */, "pwrite", this.full(path));
          done += n;
          at += n;
        }
      });
    } finally {
      this.fs.close(fd);
    }
    this.owner(path, meta, 0);
    this.fs.chmod(this.full(path), meta.mode & 0o7777);
    this.times(path, meta, 0);
    this.counts.files++;
    this.counts.bytes += at;
    return at;
  }

  /** A symlink at `path` holding `target` verbatim. */
  symlink(path: string, target: string, meta: EntryMeta): void {
    this.clear(path);
    this.fs.symlink(target, this.full(path));
    this.owner(path, meta, AT_SYMLINK_NOFOLLOW);
    this.times(path, meta, AT_SYMLINK_NOFOLLOW);
    this.counts.symlinks++;
  }

  /** A hard link at `path` to `target`, an earlier entry of the same layer (both layer-relative). ENOENT if absent. */
  hardlink(path: string, target: string): void {
    this.clear(path);
    this.fs.link(this.full(target), this.full(path));
    this.counts.hardlinks++;
  }

  /** True when `path` exists in the layer (so far). */
  has(path: string): boolean {
    return lstatOrNull(this.fs, this.full(path)) !== null;
  }

  /** Sets every directory's mode and times, deepest first. Call once, after the last entry. */
  finish(): void {
    const depth = (path: string) => (path === "" ? 0 : path.split("/").length);
    const paths = [...this.directories.keys()].sort((a, b) => depth(b) - depth(a));
    for (const path of paths) {
      const meta = this.directories.get(path)!;
      this.fs.chmod(this.full(path), meta.mode & 0o7777);
      this.times(path, meta, 0);
    }
  }
}
