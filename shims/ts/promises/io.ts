/** @module io — whole-file reads and writes on an open descriptor: read until EOF in big chunks, write until done. */
import { Buffer, constants as bufferConstants } from "node:buffer";
import { constants } from "node:fs";
import type { DanausClient } from "../client.ts";
import { ERRNO, FsError } from "../../../kernel/ipc/protocol/index.ts";
import { toBytes } from "./arguments.ts";
import { FileTooLargeError, throwIfAborted } from "./errors.ts";

/** What writeFile/appendFile accept: bytes, a string, or an (async) iterable of either. */
export type WriteData =
  | string
  | ArrayBufferView
  | Iterable<string | ArrayBufferView>
  | AsyncIterable<string | ArrayBufferView>;

const SEEK_CUR = 1;
/** First chunk when the size is unknown (or the file grew past it); doubles up to {@link MAX_CHUNK}. */
const FIRST_CHUNK = 64 * 1024;
/** Largest single read request (the client splits it over the request buffer). */
const MAX_CHUNK = 8 * 1024 * 1024;

/**
 * Reads from the descriptor's position to end of file: one read of the size fstat reports, then growing chunks until
 * a read returns 0 (the file may be longer than reported, e.g. still growing). EISDIR for a directory.
 */
export function readToEnd(client: DanausClient, fd: number, signal?: AbortSignal | null): Buffer {
  const stat = client.fstat(fd);
  let expected = 0;
  if ((stat.st_mode & constants.S_IFMT) === constants.S_IFREG) {
    if (stat.st_size > 0) expected = Math.max(0, stat.st_size - client.lseek(fd, 0, SEEK_CUR));
    if (expected > bufferConstants.MAX_LENGTH) throw new FileTooLargeError(stat.st_size);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  let size = expected > 0 ? expected : FIRST_CHUNK;
  for (;;) {
    throwIfAborted(signal);
    const chunk = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const n = client.read(fd, chunk, filled, size - filled, null);
      if (n === 0) break;
      filled += n;
    }
    if (filled > 0) chunks.push(filled === size ? chunk : chunk.subarray(0, filled));
    total += filled;
    if (total > bufferConstants.MAX_LENGTH) throw new FileTooLargeError(total);
    if (filled < size) break;
    size = expected > 0 && chunks.length === 1 ? FIRST_CHUNK : Math.min(size * 2, MAX_CHUNK);
  }
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks, total);
}

/** Writes all of `bytes` at `position` (null: the descriptor's position, or the end for O_APPEND). EIO if a write makes no progress. */
export function writeAll(client: DanausClient, fd: number, bytes: Uint8Array, position: number | null = null): void {
  let done = 0;
  while (done < bytes.length) {
    const n = client.write(fd, bytes, done, bytes.length - done, position === null ? null : position + done);
    if (n <= 0) throw new FsError(ERRNO.EIO, "write");
    done += n;
  }
}

/** Writes `data` (bytes, string, or an iterable of them) at the descriptor's position, checking `signal` between chunks. */
export async function writeData(client: DanausClient, fd: number, data: WriteData, encoding: BufferEncoding | null, signal?: AbortSignal | null): Promise<void> {
  throwIfAborted(signal);
  if (typeof data === "string" || ArrayBuffer.isView(data)) {
    writeAll(client, fd, toBytes(data, encoding));
    return;
  }
  if (data !== null && typeof data === "object" && (Symbol.asyncIterator in data || Symbol.iterator in data)) {
    for await (const chunk of data as AsyncIterable<string | ArrayBufferView>) {
      throwIfAborted(signal);
      writeAll(client, fd, toBytes(chunk, encoding));
    }
    return;
  }
  toBytes(data as never, encoding); // throws the ERR_INVALID_ARG_TYPE for anything else
}
