/**
 * @module init — FUSE_INIT negotiation. The server speaks protocol 7.31 (64-byte `fuse_init_out`, measured to work
 * against the 7.45 kernel) and accepts, of what the kernel offers: FUSE_ASYNC_READ, FUSE_BIG_WRITES,
 * FUSE_PARALLEL_DIROPS, FUSE_MAX_PAGES (max_write 1 MiB, max_pages 256), FUSE_AUTO_INVAL_DATA, and
 * FUSE_DO_READDIRPLUS with FUSE_READDIRPLUS_AUTO (the kernel asks for attributes with the names when it expects
 * lookups to follow, as `ls -l` does), and FUSE_DIRECT_IO_ALLOW_MMAP (through FUSE_INIT_EXT's `flags2`: shared mmap of
 * direct-I/O files, Linux 6.6+; without it `mmap(MAP_SHARED)` of such a file answers ENODEV). It does not take WRITEBACK_CACHE, POSIX_LOCKS/FLOCK_LOCKS (the kernel then handles locks locally), ATOMIC_O_TRUNC
 * (O_TRUNC arrives as a SETATTR), DONT_MASK (the kernel applies the umask) nor EXPORT_SUPPORT.
 */
import { FUSE_INIT_FLAG, FUSE_INIT_FLAG2, FUSE_KERNEL_VERSION, fuse_init_in, fuse_init_out } from "../protocol/index.ts";
import { MAX_PAGES, MAX_WRITE } from "./options.ts";

/** The protocol minor the server replies with. */
export const SERVER_MINOR = 31;

/** Oldest kernel minor the server serves (7.12: umask in create/mkdir/mknod, 40-byte read/write_in). */
export const MIN_KERNEL_MINOR = 12;

const F = FUSE_INIT_FLAG;
/** The INIT flags the server wants, granted when the kernel offers them. */
export const WANTED_INIT_FLAGS =
  F.FUSE_ASYNC_READ |
  F.FUSE_BIG_WRITES |
  F.FUSE_PARALLEL_DIROPS |
  F.FUSE_MAX_PAGES |
  F.FUSE_AUTO_INVAL_DATA |
  F.FUSE_DO_READDIRPLUS |
  F.FUSE_READDIRPLUS_AUTO;

/** The `flags2` INIT flags the server wants, granted when the kernel offers them (with FUSE_INIT_EXT). */
export const WANTED_INIT_FLAGS2 = FUSE_INIT_FLAG2.FUSE_DIRECT_IO_ALLOW_MMAP;

/** The outcome of an INIT: the reply body, or an errno when the kernel is too old. */
export type InitResult =
  | { readonly ok: true; readonly reply: Partial<ReturnType<typeof fuse_init_out.read>>; readonly minor: number; readonly flags: number }
  | { readonly ok: false; readonly errno: number };

/**
 * Decide the INIT reply for the kernel's `fuse_init_in`. A kernel with a newer major gets only our major (it then
 * re-sends INIT); a kernel older than 7.{@link MIN_KERNEL_MINOR} is refused with EPROTO (71).
 */
export function negotiateInit(request: ReturnType<typeof fuse_init_in.read>): InitResult {
  if (request.major > FUSE_KERNEL_VERSION) {
    return { ok: true, reply: { major: FUSE_KERNEL_VERSION }, minor: 0, flags: 0 };
  }
  if (request.major < FUSE_KERNEL_VERSION || request.minor < MIN_KERNEL_MINOR) return { ok: false, errno: 71 };
  const extended = (request.flags & F.FUSE_INIT_EXT) !== 0;
  const flags2 = extended ? (request.flags2 & WANTED_INIT_FLAGS2) >>> 0 : 0;
  const flags = ((request.flags & WANTED_INIT_FLAGS) | (flags2 !== 0 ? F.FUSE_INIT_EXT : 0)) >>> 0;
  const minor = Math.min(request.minor, SERVER_MINOR);
  return {
    ok: true,
    minor,
    flags,
    reply: {
      major: FUSE_KERNEL_VERSION,
      minor,
      max_readahead: request.max_readahead,
      flags,
      max_background: 16,
      congestion_threshold: 12,
      max_write: MAX_WRITE,
      time_gran: 1,
      max_pages: flags & F.FUSE_MAX_PAGES ? MAX_PAGES : 0,
      flags2,
    },
  };
}
