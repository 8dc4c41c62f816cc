/** @module protocol — the control socket's JSON-lines messages, declared once as valibot schemas (both sides validate). */
import * as v from "valibot";

/** Largest request line the supervisor accepts, in bytes (a longer one is answered with an error and the connection closed). */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** Every fault kind the CLI can inject. */
export const FAULT_KINDS = ["kill", "hang", "crash-loop", "slow", "oom", "exit"] as const;
/** A fault kind. */
export type FaultKind = (typeof FAULT_KINDS)[number];

const tenantName = v.pipe(v.string(), v.minLength(1), v.maxLength(64));
const count = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000));
const millis = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(3_600_000));

/** A fault order. */
export const FaultRequestSchema = v.strictObject({
  id: v.optional(v.number()),
  cmd: v.literal("fault"),
  kind: v.picklist(FAULT_KINDS, `a fault kind (${FAULT_KINDS.join(", ")})`),
  tenant: tenantName,
  service: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  /** crash-loop: how many crashes in a row (default 3). */
  times: v.optional(count),
  /** slow: how long requests stay slow (default 5000 ms). */
  durationMs: v.optional(millis),
  /** slow: latency added to every request (default 50 ms). */
  latencyMs: v.optional(millis),
  /** exit: the exit code (default 0). */
  code: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(255))),
});
/** A validated fault order. */
export type FaultRequest = v.InferOutput<typeof FaultRequestSchema>;

/** Every request the control socket answers. */
export const RequestSchema = v.variant("cmd", [
  v.strictObject({ id: v.optional(v.number()), cmd: v.literal("status") }),
  FaultRequestSchema,
  v.strictObject({ id: v.optional(v.number()), cmd: v.literal("reload") }),
  v.strictObject({ id: v.optional(v.number()), cmd: v.literal("start-tenant"), tenant: tenantName }),
  v.strictObject({ id: v.optional(v.number()), cmd: v.literal("stop-tenant"), tenant: tenantName }),
  v.strictObject({ id: v.optional(v.number()), cmd: v.literal("ping"), tenant: tenantName, service: v.string() }),
  v.strictObject({ id: v.optional(v.number()), cmd: v.literal("shutdown") }),
], "a request with cmd = status | fault | reload | start-tenant | stop-tenant | ping | shutdown");
/** A validated request. */
export type Request = v.InferOutput<typeof RequestSchema>;

/** Every reply: ok with a result, or an error with a code and a message. */
export const ReplySchema = v.union([
  v.object({ id: v.optional(v.number()), ok: v.literal(true), result: v.unknown() }),
  v.object({ id: v.optional(v.number()), ok: v.literal(false), error: v.object({ code: v.string(), message: v.string() }) }),
]);
/** A reply. */
export type Reply = v.InferOutput<typeof ReplySchema>;

/** Error codes of failed replies. */
export type ControlErrorCode = "EINVAL" | "E2BIG" | "ENOENT" | "EBUSY" | "EIO" | "ESHUTDOWN";

/** A failure to report to the control client; the server turns it into an error reply. */
export class ControlError extends Error {
  constructor(readonly code: ControlErrorCode, message: string) {
    super(message);
    this.name = "ControlError";
  }
}
