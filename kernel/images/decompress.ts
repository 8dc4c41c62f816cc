/** @module decompress — a layer file's bytes as a tar stream: gzip (by its magic bytes) is inflated, anything else passes. */

/** True when `bytes` start with the gzip magic (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The uncompressed tar bytes of a layer file: gzip is inflated with Bun.gunzipSync, anything else is returned as is.
 * Throws an Error naming `label` when the gzip stream is corrupt or truncated.
 */
export function tarBytes(bytes: Uint8Array<ArrayBuffer>, label: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return Bun.gunzipSync(bytes);
  } catch (error) {
    throw new Error(`${label}: not a valid gzip stream (${error instanceof Error ? error.message : String(error)})`);
  }
}
