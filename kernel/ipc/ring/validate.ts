/** @module validate — checks on what a peer wrote into shared memory; each answers an errno (0 = fine) and never throws. */
import { DIRENT_NAME_OFFSET } from "../protocol/dirent.ts";
import { ENTRY_STATE, type RequestDescriptor } from "../protocol/entry.ts";
import { ERRNO } from "../protocol/errno.ts";
import { lookupOperation, type ReplyPayload, type RequestPayload } from "../protocol/operations.ts";
import type { RegionParams } from "../protocol/region-layout.ts";
import { STAT } from "../protocol/stat.ts";
import { STATFS } from "../protocol/statfs.ts";

/** 0 when `value` is one of the ENTRY_STATE values, EINVAL otherwise (garbage in the state word). */
export function validateState(value: number): 0 | typeof ERRNO.EINVAL {
  return Number.isInteger(value) && value >= ENTRY_STATE.EMPTY && value <= ENTRY_STATE.DONE ? 0 : ERRNO.EINVAL;
}

/** Smallest window a request payload of each kind can fit in. */
const MIN_REQUEST: Readonly<Record<RequestPayload, number>> = { none: 0, bytes: 0, path: 2, "two-paths": 4 };

/** Smallest window that holds one reply payload of each kind. */
const MIN_REPLY: Readonly<Record<ReplyPayload, number>> = {
  none: 0, bytes: 0, stat: STAT.size, statfs: STATFS.size, dirents: DIRENT_NAME_OFFSET + 5,
  // Optional: only an open of a FIFO writes one, and a path window is always large enough for it.
  "fifo-node": 0,
};

/**
 * Check a request taken off a queue against the region and the operation table:
 * ENOSYS for an unknown opcode; EINVAL for a buffer index out of range, a window (offset, length) that
 * leaves the buffer, or a window too small for the operation's request or reply payload. 0 if usable.
 * It does not check ownership of the buffer or of file descriptors: that is the dispatcher's job.
 */
export function validateRequest(params: RegionParams, request: RequestDescriptor): 0 | typeof ERRNO.EINVAL | typeof ERRNO.ENOSYS {
  const op = lookupOperation(request.opcode);
  if (typeof op === "number") return op;
  const { buffer, offset, length } = request;
  if (!Number.isInteger(buffer) || buffer < 0 || buffer >= params.bufferCount) return ERRNO.EINVAL;
  if (!Number.isInteger(offset) || offset < 0 || offset > params.bufferSize) return ERRNO.EINVAL;
  if (!Number.isInteger(length) || length < 0 || length > params.bufferSize - offset) return ERRNO.EINVAL;
  if (length < MIN_REQUEST[op.request] || length < MIN_REPLY[op.reply.payload]) return ERRNO.EINVAL;
  return 0;
}

/**
 * Check a reply as the producer reads it: EIO when the consumer claims more reply bytes than the window
 * it was given (a broken service), 0 otherwise.
 */
export function validateReply(windowLength: number, replyLength: number): 0 | typeof ERRNO.EIO {
  return replyLength <= windowLength ? 0 : ERRNO.EIO;
}
