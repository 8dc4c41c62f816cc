/**
 * @module stream-frame — the same requests over a Unix stream socket instead of the ring (for comparison benchmarks
 * and debugging): a fixed header then the payload window, and a fixed reply header then the reply payload.
 */
import { defineStruct } from "./struct.ts";

/** A request frame's header; `window` payload bytes follow (the request payload, or the reply capacity if none). */
export const STREAM_REQUEST = defineStruct("danaus_stream_request", "request frame header on the stream transport", [
  { name: "opcode", type: "u32", offset: 0 },
  { name: "window", type: "u32", offset: 4, doc: "window size: reply capacity of the request" },
  { name: "payload", type: "u32", offset: 8, doc: "request payload bytes following this header" },
  { name: "__pad", type: "u32", offset: 12 },
  { name: "args", type: "i64", offset: 16, count: 6 },
]);

/** A reply frame's header; `reply_length` payload bytes follow. */
export const STREAM_REPLY = defineStruct("danaus_stream_reply", "reply frame header on the stream transport", [
  { name: "result", type: "i64", offset: 0, doc: ">= 0, or -errno" },
  { name: "reply_length", type: "u32", offset: 8 },
  { name: "__pad", type: "u32", offset: 12 },
]);
