/** @module node-fs — the FileSystem calls the benchmarks make, done with node:fs on a host directory (a peer's mount or a local dir). */
import { closeSync, fsyncSync, ftruncateSync, openSync, readSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { FileSystem } from "../kernel/ipc/protocol/index.ts";

/** The subset of FileSystem the benchmark drivers use. */
export type BenchFs = Pick<FileSystem, "open" | "close" | "pread" | "pwrite" | "unlink" | "ftruncate" | "fsync"> & { stat(path: string): unknown };

/** node:fs on `dir`, shaped like {@link BenchFs}. */
export function nodeFs(dir: string): BenchFs {
  return {
    open: (path, flags, mode) => openSync(join(dir, path), flags, mode),
    close: (fd) => closeSync(fd),
    pread: (fd, into, offset) => readSync(fd, into, 0, into.length, offset),
    pwrite: (fd, data, offset) => writeSync(fd, data, 0, data.length, offset),
    stat: (path) => statSync(join(dir, path)),
    unlink: (path) => unlinkSync(join(dir, path)),
    ftruncate: (fd, length) => ftruncateSync(fd, length),
    fsync: (fd) => fsyncSync(fd),
  };
}
