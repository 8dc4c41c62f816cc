/**
 * @module handshake — answers FUSE_INIT on the thread that mounted, right after mount(2). The kernel queues INIT
 * during mount, so the read returns at once; answering it here means a mount is never left with INIT unanswered
 * (which would make umount hang in D-state) even if the serving Worker never runs.
 */
import { readSync, writeSync } from "node:fs";
import { ERRNO } from "../../../kernel/ipc/protocol/index.ts";
import { decodeInHeader, encodeOutHeader, FUSE_OP, fuse_init_in, fuse_init_out, IN_HEADER_SIZE, OUT_HEADER_SIZE } from "../protocol/index.ts";
import { negotiateInit } from "./init.ts";
import { REQUEST_BUFFER_SIZE } from "./options.ts";

/** The negotiated protocol: the minor and the INIT flags granted; `error` set when the kernel was refused. */
export interface Handshake {
  readonly minor: number;
  readonly flags: number;
  readonly error?: number;
}

/**
 * Reads the INIT request from `fd` and answers it (see init.ts for what is negotiated). A kernel with a newer major
 * is answered with our major and re-sends INIT, which is answered in turn. Returns the outcome; throws only when the
 * device read or write fails.
 */
export function answerInit(fd: number): Handshake {
  const request = new Uint8Array(REQUEST_BUFFER_SIZE);
  const view = new DataView(request.buffer);
  const reply = new Uint8Array(OUT_HEADER_SIZE + fuse_init_out.size);
  const replyView = new DataView(reply.buffer);
  for (let attempt = 0; attempt < 3; attempt++) {
    const length = readSync(fd, request, 0, request.length, null);
    if (length < IN_HEADER_SIZE) continue;
    const header = decodeInHeader(view);
    if (header.opcode !== FUSE_OP.INIT) {
      writeSync(fd, reply, 0, encodeOutHeader(replyView, header.unique, -ERRNO.EIO, 0));
      continue;
    }
    const result = negotiateInit(fuse_init_in.read(view, IN_HEADER_SIZE));
    if (!result.ok) {
      writeSync(fd, reply, 0, encodeOutHeader(replyView, header.unique, -result.errno, 0));
      return { minor: 0, flags: 0, error: result.errno };
    }
    fuse_init_out.write(replyView, OUT_HEADER_SIZE, result.reply);
    writeSync(fd, reply, 0, encodeOutHeader(replyView, header.unique, 0, fuse_init_out.size));
    if (result.minor > 0) return { minor: result.minor, flags: result.flags };
  }
  return { minor: 0, flags: 0, error: ERRNO.EPROTO };
}
