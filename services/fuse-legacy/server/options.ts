/** @module options — what a FUSE session and server are configured with, and the logger they report through. */

/** Where the server reports handler bugs and protocol anomalies (the kernel's `Logger` fits). */
export interface FuseLogger {
  warn(msg: string, fields?: object): void;
  error(msg: string, fields?: object): void;
}

/** How one session answers the kernel. */
export interface FuseSessionOptions {
  /** Open files with FOPEN_DIRECT_IO (no page cache: every read/write reaches the server). Default false. */
  readonly directIo?: boolean;
  /** How long the kernel may cache attributes, in ms. Default 1000. */
  readonly attrTimeoutMs?: number;
  /** How long the kernel may cache a name → node lookup, in ms. Default 1000. */
  readonly entryTimeoutMs?: number;
  /** How long the kernel may remember that a name does not exist (a negative entry), in ms. Default 0 (not at all). */
  readonly negativeTimeoutMs?: number;
}

/** Largest WRITE the server accepts (also the READ size bound through max_pages): 1 MiB. */
export const MAX_WRITE = 1 << 20;
/** Pages per request (FUSE_MAX_PAGES): MAX_WRITE / 4 KiB. */
export const MAX_PAGES = MAX_WRITE / 4096;
/** Request buffer size: the largest WRITE plus headers, with room to spare (FUSE wants ≥ max_write + 4 KiB). */
export const REQUEST_BUFFER_SIZE = MAX_WRITE + 64 * 1024;
/** Reply buffer size: the largest READ plus the reply header. */
export const REPLY_BUFFER_SIZE = MAX_WRITE + 4096;
