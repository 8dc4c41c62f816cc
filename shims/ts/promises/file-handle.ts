/** @module file-handle — Node's `FileHandle` over a DanausClient descriptor: positional and sequential I/O, stat, truncate, sync. */
import { Buffer } from "node:buffer";
import type { DanausClient } from "../client.ts";
import { encodingOf, toBytes, toInteger } from "./arguments.ts";
import { InvalidArgumentError } from "./errors.ts";
import { readToEnd, writeAll, writeData, type WriteData } from "./io.ts";
import { Stats } from "./stats.ts";

/** Where a read or write happens: a byte offset, or null (or -1) for the descriptor's current position. */
export type Position = number | bigint | null;

/** The options-object form of {@link FileHandle.read}. */
export interface ReadOptions<T extends ArrayBufferView = Buffer> {
  buffer?: T;
  offset?: number;
  length?: number;
  position?: Position;
}

/** The options-object form of {@link FileHandle.write} with a buffer. */
export interface WriteOptions {
  offset?: number;
  length?: number;
  position?: Position;
}

/** What {@link FileHandle.read} resolves to. */
export interface ReadResult<T extends ArrayBufferView> {
  bytesRead: number;
  buffer: T;
}

/** What {@link FileHandle.write} resolves to (`buffer` is what was passed: bytes or the string). */
export interface WriteResult<T> {
  bytesWritten: number;
  buffer: T;
}

/** Options of {@link FileHandle.readFile}. */
export type HandleReadFileOptions = { encoding?: BufferEncoding | null; signal?: AbortSignal | null } | BufferEncoding | null;
/** Options of {@link FileHandle.writeFile} / {@link FileHandle.appendFile}. */
export type HandleWriteFileOptions = { encoding?: BufferEncoding | null; signal?: AbortSignal | null; flush?: boolean } | BufferEncoding | null;

/** Default buffer of `read()` without one, as in Node. */
const DEFAULT_READ_SIZE = 16384;

/** A byte offset, or null for "the current position" (null, undefined, -1 or any non-integer, as Node treats them). */
function toPosition(position: Position | undefined): number | null {
  if (typeof position === "bigint") position = Number(position);
  if (typeof position !== "number" || !Number.isSafeInteger(position) || position < 0) return null;
  return position;
}

/** Checks `offset`/`length` fall inside a buffer of `size` bytes, like Node (ERR_OUT_OF_RANGE). */
function checkRange(size: number, offset: number, length: number): void {
  toInteger(offset, "offset", 0, size);
  toInteger(length, "length", 0, size - offset);
}

/** Bytes of any ArrayBufferView, sharing its memory. */
function bytesOf(view: ArrayBufferView): Uint8Array {
  if (!ArrayBuffer.isView(view)) throw new InvalidArgumentError("ERR_INVALID_ARG_TYPE", `The "buffer" argument must be an instance of Buffer, TypedArray, or DataView. Received ${String(view)}`);
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * An open file, as `open()` returns it. Methods reject with FsError (EBADF once closed). `fd` is the client's
 * private descriptor (usable with the DanausClient that opened it), -1 after close.
 */
export class FileHandle {
  #fd: number;

  /** Wraps descriptor `fd` of `client` (normally made by `open()`). */
  constructor(private readonly client: DanausClient, fd: number) {
    this.#fd = fd;
  }

  /** The descriptor, or -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /** Reads into `buffer[offset, offset+length)` at `position` (null: the current position, which advances). EISDIR, EBADF. */
  read<T extends ArrayBufferView = Buffer>(buffer: T, offset?: number | null, length?: number | null, position?: Position): Promise<ReadResult<T>>;
  /** Reads into `buffer` with offset/length/position taken from `options`. */
  read<T extends ArrayBufferView = Buffer>(buffer: T, options?: ReadOptions<T>): Promise<ReadResult<T>>;
  /** Reads into `options.buffer` (default a new 16 KiB Buffer). */
  read<T extends ArrayBufferView = Buffer>(options?: ReadOptions<T>): Promise<ReadResult<T>>;
  async read<T extends ArrayBufferView>(
    first?: T | ReadOptions<T>,
    second?: number | null | ReadOptions<T>,
    third?: number | null,
    fourth?: Position,
  ): Promise<ReadResult<T>> {
    let buffer: T;
    let options: ReadOptions<T>;
    if (first === undefined || first === null || !ArrayBuffer.isView(first)) {
      options = (first as ReadOptions<T> | undefined) ?? {};
      buffer = options.buffer ?? (Buffer.alloc(DEFAULT_READ_SIZE) as unknown as T);
    } else {
      buffer = first;
      options = second !== null && typeof second === "object" ? second : { offset: second ?? undefined, length: third ?? undefined, position: fourth };
    }
    const bytes = bytesOf(buffer);
    const offset = options.offset ?? 0;
    const length = options.length ?? bytes.length - offset;
    checkRange(bytes.length, offset, length);
    if (length === 0) return { bytesRead: 0, buffer };
    const bytesRead = this.client.read(this.#fd, bytes, offset, length, toPosition(options.position));
    return { bytesRead, buffer };
  }

  /** Writes `buffer[offset, offset+length)` at `position` (null: the current position; O_APPEND files: the end). EBADF, ENOSPC. */
  write<T extends ArrayBufferView>(buffer: T, offset?: number | null, length?: number | null, position?: Position): Promise<WriteResult<T>>;
  /** Writes `buffer` with offset/length/position taken from `options`. */
  write<T extends ArrayBufferView>(buffer: T, options?: WriteOptions): Promise<WriteResult<T>>;
  /** Writes `text` encoded with `encoding` (default utf8) at `position`. */
  write(text: string, position?: Position, encoding?: BufferEncoding | null): Promise<WriteResult<string>>;
  async write(
    data: ArrayBufferView | string,
    second?: number | bigint | null | WriteOptions,
    third?: number | null | BufferEncoding,
    fourth?: Position,
  ): Promise<WriteResult<ArrayBufferView | string>> {
    if (typeof data === "string") {
      const bytes = toBytes(data, encodingOf(third ?? null, "utf8"));
      writeAll(this.client, this.#fd, bytes, toPosition(second as Position | undefined));
      return { bytesWritten: bytes.length, buffer: data };
    }
    const options: WriteOptions =
      second !== null && typeof second === "object" ? second : { offset: (second as number | null | undefined) ?? undefined, length: (third as number | null | undefined) ?? undefined, position: fourth };
    const bytes = bytesOf(data);
    const offset = options.offset ?? 0;
    const length = options.length ?? bytes.length - offset;
    checkRange(bytes.length, offset, length);
    const position = toPosition(options.position);
    const bytesWritten = length === 0 ? 0 : this.client.write(this.#fd, bytes, offset, length, position);
    return { bytesWritten, buffer: data };
  }

  /** Reads into each buffer in turn (at `position`, else the current position); resolves to the total. */
  async readv<T extends readonly ArrayBufferView[]>(buffers: T, position?: Position): Promise<{ bytesRead: number; buffers: T }> {
    let at = toPosition(position);
    let bytesRead = 0;
    for (const buffer of buffers) {
      const bytes = bytesOf(buffer);
      if (bytes.length === 0) continue;
      const n = this.client.read(this.#fd, bytes, 0, bytes.length, at);
      bytesRead += n;
      if (at !== null) at += n;
      if (n < bytes.length) break;
    }
    return { bytesRead, buffers };
  }

  /** Writes every buffer in turn (at `position`, else the current position); resolves to the total. */
  async writev<T extends readonly ArrayBufferView[]>(buffers: T, position?: Position): Promise<{ bytesWritten: number; buffers: T }> {
    const at = toPosition(position);
    let bytesWritten = 0;
    for (const buffer of buffers) {
      const bytes = bytesOf(buffer);
      writeAll(this.client, this.#fd, bytes, at === null ? null : at + bytesWritten);
      bytesWritten += bytes.length;
    }
    return { bytesWritten, buffers };
  }

  /** The rest of the file from the current position: a Buffer, or a string with an encoding. EISDIR. */
  readFile(options?: { encoding?: null; signal?: AbortSignal | null } | null): Promise<Buffer>;
  /** The rest of the file from the current position, decoded. */
  readFile(options: { encoding: BufferEncoding; signal?: AbortSignal | null } | BufferEncoding): Promise<string>;
  /** The rest of the file from the current position. */
  readFile(options?: HandleReadFileOptions): Promise<Buffer | string>;
  async readFile(options?: HandleReadFileOptions): Promise<Buffer | string> {
    const encoding = encodingOf(options);
    const signal = typeof options === "object" ? options?.signal : undefined;
    const bytes = readToEnd(this.client, this.#fd, signal);
    return encoding === null ? bytes : bytes.toString(encoding);
  }

  /** Writes `data` from the current position (the end for append handles); `flush` fsyncs afterwards. */
  async writeFile(data: WriteData, options?: HandleWriteFileOptions): Promise<void> {
    const signal = typeof options === "object" ? options?.signal : undefined;
    await writeData(this.client, this.#fd, data, encodingOf(options, "utf8"), signal);
    if (typeof options === "object" && options?.flush) this.client.fsync(this.#fd);
  }

  /** Alias of {@link writeFile}, as in Node (appends only if the handle was opened for appending). */
  appendFile(data: WriteData, options?: HandleWriteFileOptions): Promise<void> {
    return this.writeFile(data, options);
  }

  /** fstat of the open file. */
  async stat(): Promise<Stats> {
    return new Stats(this.client.fstat(this.#fd));
  }

  /** Sets the size to `len` bytes (negative counts as 0, like Node). EINVAL if not writable, EBADF. */
  async truncate(len = 0): Promise<void> {
    this.client.ftruncate(this.#fd, Math.max(0, toInteger(len, "len")));
  }

  /** Flushes data and metadata to stable storage. */
  async sync(): Promise<void> {
    this.client.fsync(this.#fd);
  }

  /** Flushes the data to stable storage. */
  async datasync(): Promise<void> {
    this.client.fdatasync(this.#fd);
  }

  /** Closes the file; closing twice resolves (as in Node). */
  async close(): Promise<void> {
    const fd = this.#fd;
    if (fd === -1) return;
    this.#fd = -1;
    this.client.close(fd);
  }

  /** `await using handle = await fs.open(...)` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
