/**
 * @module watchdog — the router's look at requests held in service for long (a FIFO that waits for its partner, a
 * backend that stopped answering): which queues need another service thread so they keep a consumer, and one line per
 * held request (operation, path or descriptor, age, client) for the log and `danaus status`.
 */
import type { ActiveRequest, ActivityTable } from "./activity.ts";
import { bytesToName, escapeName, OP_FLAG, operationByOpcode, PATH_MAX, readRequest } from "../protocol/index.ts";
import type { Region } from "../ring/index.ts";

/** A request in service for longer than the bound, as the watchdog reports it. */
export interface HeldRequest extends ActiveRequest {
  readonly ageMs: number;
  /** e.g. `open '/pipe' (client 3, 1520 ms)`. */
  readonly description: string;
}

/** The requests of `threads` (thread slots of the table) held for at least `boundMs` at `now` (`Date.now()`). */
export function heldRequests(table: ActivityTable, threads: Iterable<number>, now: number, boundMs: number, region: Region): HeldRequest[] {
  const held: HeldRequest[] = [];
  for (const thread of threads) {
    const request = table.current(thread);
    if (request === null || now - request.startedAt < boundMs) continue;
    const ageMs = Math.round(now - request.startedAt);
    held.push({ ...request, ageMs, description: `${describe(region, request)} (client ${request.client}, ${ageMs} ms)` });
  }
  return held;
}

/**
 * Whether a queue with `threads` service threads, `held` of them held for long, gets another thread: it must keep one
 * free consumer, up to `cap` threads in all (the bound on what held requests can pin).
 */
export function needsThread(threads: number, held: number, cap: number): boolean {
  return threads - held < 1 && threads < cap;
}

/**
 * The operation and its path (from the request window, as it is now: its client may have rewritten it) or descriptor.
 * Reads only inside the region; anything implausible is shown as such.
 */
function describe(region: Region, request: ActiveRequest): string {
  const operation = operationByOpcode(request.opcode);
  if (operation === undefined) return `opcode ${request.opcode}`;
  const { params } = region.layout;
  if (request.queue < 0 || request.queue >= params.queueCount || request.entry < 0 || request.entry >= params.queueCapacity) return operation.name;
  const descriptor = readRequest(region.view, region.layout.entryOffset(request.queue, request.entry));
  if ((operation.flags & OP_FLAG.FD) !== 0) return `${operation.name} fd ${descriptor.args[0]}`;
  if ((operation.flags & OP_FLAG.PATH) === 0) return operation.name;
  if (descriptor.buffer >= params.bufferCount || descriptor.offset > params.bufferSize) return operation.name;
  const window = region.buffer(descriptor.buffer).subarray(descriptor.offset, Math.min(params.bufferSize, descriptor.offset + descriptor.length));
  const nul = window.subarray(0, PATH_MAX).indexOf(0);
  return `${operation.name} '${escapeName(bytesToName(window, 0, nul < 0 ? Math.min(window.length, 64) : nul))}'`;
}
