/** @module image-error — ImageError: an image import or clone that cannot go ahead, and why, in the user's terms. */

/** Why an image operation failed; the CLI maps these to exit codes. */
export type ImageErrorKind =
  /** The tenant, the image or a source does not exist. */
  | "not-found"
  /** The image exists and `--force` was not given. */
  | "exists"
  /** A source or argument is unusable: a bad tar, a bad name, an entry that escapes its layer. */
  | "invalid"
  /** The backend refused a write or a read. */
  | "io";

/** An image import or clone that failed. The message says what, where, and what to do. */
export class ImageError extends Error {
  override readonly name = "ImageError";

  constructor(readonly kind: ImageErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
