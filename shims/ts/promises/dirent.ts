/** @module dirent — Node-shaped `Dirent` objects (what `readdir(path, { withFileTypes: true })` returns). */
import { DT } from "../../../kernel/ipc/protocol/index.ts";

/** One directory entry: its `name`, the directory holding it (`parentPath`, alias `path`) and its type predicates. */
export class Dirent {
  /**
   * @param name the entry's name inside `parentPath`
   * @param parentPath the directory the entry was listed from, as the caller named it
   * @param type the entry's `DT_*` type (never DT_UNKNOWN: readdir resolves those with lstat)
   */
  constructor(
    readonly name: string | Buffer,
    readonly parentPath: string,
    private readonly type: number,
  ) {}

  /** Deprecated alias of {@link parentPath} (Node kept it until v24). */
  get path(): string {
    return this.parentPath;
  }
  /** A regular file. */
  isFile(): boolean {
    return this.type === DT.REG;
  }
  /** A directory. */
  isDirectory(): boolean {
    return this.type === DT.DIR;
  }
  /** A symbolic link (never followed). */
  isSymbolicLink(): boolean {
    return this.type === DT.LNK;
  }
  /** A block device. */
  isBlockDevice(): boolean {
    return this.type === DT.BLK;
  }
  /** A character device. */
  isCharacterDevice(): boolean {
    return this.type === DT.CHR;
  }
  /** A FIFO. */
  isFIFO(): boolean {
    return this.type === DT.FIFO;
  }
  /** A Unix socket. */
  isSocket(): boolean {
    return this.type === DT.SOCK;
  }
}

/** The DT_* type of a stat mode (for entries whose listing said DT_UNKNOWN). */
export function modeToType(mode: number): number {
  return (mode >>> 12) & 0o17;
}
