/** @module errors — the few Node-shaped errors the facade raises itself: bad arguments, rm of a directory, aborts. */
import { ERRNO, FsError } from "../../../kernel/ipc/protocol/index.ts";

/** A caller passed an argument Node would refuse (`code` ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE / ERR_OUT_OF_RANGE). */
export class InvalidArgumentError extends TypeError {
  override readonly name = "TypeError";

  constructor(readonly code: "ERR_INVALID_ARG_TYPE" | "ERR_INVALID_ARG_VALUE" | "ERR_OUT_OF_RANGE" | "ERR_METHOD_NOT_IMPLEMENTED", message: string) {
    super(message);
  }
}

/** `rm` of a directory without `recursive`: an FsError (errno EISDIR) whose `code` is Node's `ERR_FS_EISDIR`. */
export class IsDirectoryError extends FsError {
  override readonly code = "ERR_FS_EISDIR";

  constructor(path: string) {
    super(ERRNO.EISDIR, "rm", path);
    this.message = `Path is a directory: rm returned EISDIR (is a directory) ${path}; pass { recursive: true } to remove it and its contents`;
  }
}

/** A readFile larger than a Buffer can hold (`code` ERR_FS_FILE_TOO_LARGE, like Node). */
export class FileTooLargeError extends RangeError {
  readonly code = "ERR_FS_FILE_TOO_LARGE";

  constructor(readonly size: number) {
    super(`File size (${size}) is greater than the largest possible Buffer; read it in pieces with a FileHandle`);
  }
}

/** An operation stopped by its `signal` (`name` AbortError, `code` ABORT_ERR, `cause` the signal's reason, like Node). */
export class AbortError extends Error {
  override readonly name = "AbortError";
  readonly code = "ABORT_ERR";

  constructor(cause: unknown) {
    super("The operation was aborted", { cause });
  }
}

/** Throws {@link AbortError} when `signal` is already aborted. */
export function throwIfAborted(signal: AbortSignal | null | undefined): void {
  if (signal?.aborted) throw new AbortError(signal.reason);
}

/** Whether `error` is an FsError with one of `codes`. */
export function hasCode(error: unknown, ...codes: string[]): error is FsError {
  return error instanceof FsError && codes.includes(error.code);
}
