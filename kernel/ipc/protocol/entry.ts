/** @module entry — one queue entry as data: the state word, the request descriptor and the reply, with fast codecs. */
import { readInt64, writeInt64 } from "./scalar.ts";
import { defineStruct } from "./struct.ts";

/** How many small integer arguments a request descriptor carries. */
export const ARG_COUNT = 6;

/**
 * Lifecycle of an entry. A producer claims EMPTY → WRITING, fills the descriptor, publishes VALID;
 * a consumer claims VALID → SERVING, writes the reply, publishes DONE; the producer reads the reply and
 * frees the entry (DONE → EMPTY). Every transition is an atomic compare-and-exchange or a store by the owner.
 */
export const ENTRY_STATE = { EMPTY: 0, WRITING: 1, VALID: 2, SERVING: 3, DONE: 4 } as const;

/** A state name of {@link ENTRY_STATE}. */
export type EntryStateName = keyof typeof ENTRY_STATE;

/** The name of a state value, or undefined when the value is garbage. */
export function entryStateName(value: number): EntryStateName | undefined {
  return (Object.keys(ENTRY_STATE) as EntryStateName[]).find((name) => ENTRY_STATE[name] === value);
}

/** The layout of one queue entry (96 bytes used of a 128-byte slot). */
export const ENTRY = defineStruct("danaus_entry", "one request queue entry: state word, request descriptor, reply", [
  { name: "state", type: "u32", offset: 0, doc: "DANAUS_ENTRY_* state; futex word of the reply wait" },
  { name: "waiters", type: "u32", offset: 4, doc: "non-zero while the producer sleeps on state (futex)" },
  { name: "opcode", type: "u32", offset: 8, doc: "DANAUS_OP_*" },
  { name: "client", type: "u32", offset: 12, doc: "client id handed out by the registration socket" },
  { name: "request_id", type: "u64", offset: 16, doc: "chosen by the producer, for tracing and matching replies" },
  { name: "buffer", type: "u32", offset: 24, doc: "index of the caller's request buffer" },
  { name: "offset", type: "u32", offset: 28, doc: "start of the request window inside that buffer" },
  { name: "length", type: "u32", offset: 32, doc: "window length: request payload in, reply capacity out" },
  { name: "reply_length", type: "u32", offset: 36, doc: "reply payload bytes written at the window start" },
  { name: "args", type: "i64", offset: 40, count: ARG_COUNT, doc: "small integer arguments, named per operation" },
  { name: "result", type: "i64", offset: 88, doc: ">= 0 result, < 0 -errno" },
]);

/** The request half of an entry, as a producer fills it. */
export interface RequestDescriptor {
  /** Caller-chosen id, for tracing and matching (exact below 2^53). */
  readonly requestId: number;
  readonly opcode: number;
  /** Client id from registration. */
  readonly client: number;
  /** Index of the request buffer holding the payload window. */
  readonly buffer: number;
  /** Window start inside the buffer. */
  readonly offset: number;
  /** Window length: request payload bytes in, reply capacity out. */
  readonly length: number;
  /** Up to {@link ARG_COUNT} small integers; missing ones are 0. */
  readonly args: readonly number[];
}

/** The reply half of an entry, as a consumer fills it. */
export interface ReplyDescriptor {
  /** >= 0 on success, -errno on failure. */
  readonly result: number;
  /** Reply payload bytes written at the start of the request window. */
  readonly replyLength: number;
}

const O = ENTRY.offsets;

/** Write every request field except `state` and `waiters` into the entry at `base`. */
export function writeRequest(view: DataView, base: number, request: RequestDescriptor): void {
  view.setUint32(base + O.opcode, request.opcode >>> 0, true);
  view.setUint32(base + O.client, request.client >>> 0, true);
  writeInt64(view, base + O.request_id, request.requestId);
  view.setUint32(base + O.buffer, request.buffer >>> 0, true);
  view.setUint32(base + O.offset, request.offset >>> 0, true);
  view.setUint32(base + O.length, request.length >>> 0, true);
  const args = request.args;
  for (let i = 0; i < ARG_COUNT; i++) writeInt64(view, base + O.args + 8 * i, args[i] ?? 0);
  view.setUint32(base + O.reply_length, 0, true);
  writeInt64(view, base + O.result, 0);
}

/** Read the request fields of the entry at `base`. Any bit pattern decodes; validate before use. */
export function readRequest(view: DataView, base: number): RequestDescriptor {
  const args: number[] = [];
  for (let i = 0; i < ARG_COUNT; i++) args.push(readInt64(view, base + O.args + 8 * i, true));
  return {
    requestId: readInt64(view, base + O.request_id, false),
    opcode: view.getUint32(base + O.opcode, true),
    client: view.getUint32(base + O.client, true),
    buffer: view.getUint32(base + O.buffer, true),
    offset: view.getUint32(base + O.offset, true),
    length: view.getUint32(base + O.length, true),
    args,
  };
}

/** Write the reply fields of the entry at `base` (not the state word). */
export function writeReply(view: DataView, base: number, reply: ReplyDescriptor): void {
  writeInt64(view, base + O.result, reply.result);
  view.setUint32(base + O.reply_length, reply.replyLength >>> 0, true);
}

/** Read the reply fields of the entry at `base`. */
export function readReply(view: DataView, base: number): ReplyDescriptor {
  return { result: readInt64(view, base + O.result, true), replyLength: view.getUint32(base + O.reply_length, true) };
}
