/** @module stats — Node-shaped `Stats` and `StatFs` objects built from the protocol's stat and statfs replies. */
import { constants } from "node:fs";
import type { Stat, Statfs } from "../../../kernel/ipc/protocol/index.ts";

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK, S_IFBLK, S_IFCHR, S_IFIFO, S_IFSOCK } = constants;

/** Milliseconds of a (sec, nsec) time, as Node computes `atimeMs`. */
const toMs = (sec: number, nsec: number) => sec * 1e3 + nsec / 1e6;

/**
 * What `stat`, `lstat` and `FileHandle.stat` return: the fields and predicates of Node's `fs.Stats` (numbers, not
 * bigint). `birthtime` is unknown to the protocol and is the epoch, as Node reports on filesystems without it.
 */
export class Stats {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  atime: Date;
  mtime: Date;
  ctime: Date;
  birthtime: Date;

  /** Wraps a protocol stat reply. */
  constructor(stat: Stat) {
    this.dev = stat.st_dev;
    this.ino = stat.st_ino;
    this.mode = stat.st_mode;
    this.nlink = stat.st_nlink;
    this.uid = stat.st_uid;
    this.gid = stat.st_gid;
    this.rdev = stat.st_rdev;
    this.size = stat.st_size;
    this.blksize = stat.st_blksize;
    this.blocks = stat.st_blocks;
    this.atimeMs = toMs(stat.st_atime_sec, stat.st_atime_nsec);
    this.mtimeMs = toMs(stat.st_mtime_sec, stat.st_mtime_nsec);
    this.ctimeMs = toMs(stat.st_ctime_sec, stat.st_ctime_nsec);
    this.birthtimeMs = 0;
    this.atime = new Date(this.atimeMs);
    this.mtime = new Date(this.mtimeMs);
    this.ctime = new Date(this.ctimeMs);
    this.birthtime = new Date(0);
  }

  private is(type: number): boolean {
    return (this.mode & S_IFMT) === type;
  }
  /** A regular file. */
  isFile(): boolean {
    return this.is(S_IFREG);
  }
  /** A directory. */
  isDirectory(): boolean {
    return this.is(S_IFDIR);
  }
  /** A symbolic link (only from lstat). */
  isSymbolicLink(): boolean {
    return this.is(S_IFLNK);
  }
  /** A block device. */
  isBlockDevice(): boolean {
    return this.is(S_IFBLK);
  }
  /** A character device. */
  isCharacterDevice(): boolean {
    return this.is(S_IFCHR);
  }
  /** A FIFO. */
  isFIFO(): boolean {
    return this.is(S_IFIFO);
  }
  /** A Unix socket. */
  isSocket(): boolean {
    return this.is(S_IFSOCK);
  }
}

/** What `statfs` returns: the fields of Node's `fs.StatFs`. */
export interface StatFs {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

/** A Node-shaped StatFs from a protocol statfs reply. */
export function toStatFs(statfs: Statfs): StatFs {
  return {
    type: statfs.f_type,
    bsize: statfs.f_bsize,
    blocks: statfs.f_blocks,
    bfree: statfs.f_bfree,
    bavail: statfs.f_bavail,
    files: statfs.f_files,
    ffree: statfs.f_ffree,
  };
}
