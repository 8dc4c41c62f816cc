/** @module tar-error — TarError: a tar archive that cannot be read, naming the archive, the entry and its byte offset. */

/** A malformed tar archive. The message names the archive, the entry (when known) and the byte offset of its header. */
export class TarError extends Error {
  override readonly name = "TarError";

  /**
   * @param archive the archive's file name (or a label), as the user gave it
   * @param offset the byte offset (in the uncompressed stream) of the header that is wrong
   * @param entry the entry's path when the header got that far, else undefined
   * @param reason what is wrong, e.g. "bad header checksum (stored 0o1234, computed 0o1240)"
   */
  constructor(
    readonly archive: string,
    readonly offset: number,
    readonly entry: string | undefined,
    readonly reason: string,
  ) {
    super(`${archive}: ${entry === undefined ? "" : `entry ${JSON.stringify(entry)} `}at byte ${offset}: ${reason}`);
  }
}
