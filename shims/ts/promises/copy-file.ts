/** @module copy-file — `copyFile(src, dest, mode)`: a byte copy through the client, with Node's COPYFILE_* flags. */
import { constants } from "node:fs";
import type { DanausClient } from "../client.ts";
import { ERRNO, FsError, bytesToName } from "../../../kernel/ipc/protocol/index.ts";
import { writeAll } from "./io.ts";

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, S_IFMT, S_IFDIR, COPYFILE_EXCL, COPYFILE_FICLONE_FORCE } = constants;
/** Bytes moved per read/write pair (the client splits them over the request buffer). */
const COPY_CHUNK = 4 * 1024 * 1024;

/**
 * Copies the contents of `src` to `dest` (created, or truncated) and gives `dest` the permission bits of `src`, as
 * libuv does. ENOENT, EISDIR for a directory, EEXIST with COPYFILE_EXCL, EOPNOTSUPP with COPYFILE_FICLONE_FORCE
 * (the service cannot clone); COPYFILE_FICLONE falls back to copying. Copying a file onto itself does nothing.
 */
export function copyFile(client: DanausClient, src: Uint8Array, dest: Uint8Array, mode: number): void {
  if ((mode & COPYFILE_FICLONE_FORCE) !== 0) throw new FsError(ERRNO.EOPNOTSUPP, "copyfile", bytesToName(src));
  const from = client.open(src, O_RDONLY, 0);
  try {
    const source = client.fstat(from);
    if ((source.st_mode & S_IFMT) === S_IFDIR) throw new FsError(ERRNO.EISDIR, "copyfile", bytesToName(src));
    const to = client.open(dest, O_WRONLY | O_CREAT | ((mode & COPYFILE_EXCL) !== 0 ? O_EXCL : 0), source.st_mode & 0o7777);
    try {
      const target = client.fstat(to);
      if (target.st_dev === source.st_dev && target.st_ino === source.st_ino) return;
      client.ftruncate(to, 0);
      const chunk = new Uint8Array(Math.min(COPY_CHUNK, Math.max(source.st_size, 1)));
      for (;;) {
        const n = client.read(from, chunk, 0, chunk.length, null);
        if (n === 0) break;
        writeAll(client, to, chunk.subarray(0, n));
      }
    } finally {
      client.close(to);
    }
    client.chmod(dest, source.st_mode & 0o7777);
  } finally {
    client.close(from);
  }
}
