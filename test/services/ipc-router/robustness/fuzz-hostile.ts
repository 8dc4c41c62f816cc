/**
 * A hostile client process for the fuzz test: registers over the router's socket like any client, maps the region and,
 * for `iterations` rounds driven by a seeded PRNG, writes random bytes into its own request buffer, claims entries
 * (EMPTY → WRITING) on every queue, fills their descriptors with random and half-plausible values (opcodes, client ids,
 * buffer indexes, windows, descriptors, i64 arguments), publishes them (VALID) and collects the replies, and writes
 * garbage into the state words of empty entries. Prints one JSON report line: counts of each answer.
 *
 * Deterministic for a seed: the requests in flight at once each use their own third of the buffer (a reply to one never
 * rewrites another's path), and a full queue is waited for rather than skipped, so the PRNG draws the same sequence
 * whatever the timing. The mix includes FIFOs and sockets (mknod of S_IFIFO / S_IFSOCK, then opens of them).
 */
import { ENTRY, ERRNO, errnoName, OPERATIONS, OPCODE } from "../../../../kernel/ipc/protocol/index.ts";
import { RegistrationReplySchema, type RegistrationReply } from "../../../../kernel/ipc/server/index.ts";
import { Region } from "../../../../kernel/ipc/ring/index.ts";
import { BlockingUnixSocket } from "../../../../kernel/sys/unix-socket.ts";
import * as v from "valibot";
import { dieWithParent, say } from "./helpers.ts";
import { RawRing } from "./raw-ring.ts";

/** What the hostile process reports on stdout. */
export interface HostileReport {
  seed: number;
  iterations: number;
  submitted: number;
  garbageStates: number;
  bufferScribbles: number;
  /** Answers by errno name ("ok" for results >= 0). */
  answers: Record<string, number>;
  /** Service descriptors it got from successful opens (closed or not: it never cleans up). */
  opened: number;
}

const { socket, iterations, seed } = JSON.parse(process.argv[2]!) as { socket: string; iterations: number; seed: number };
await dieWithParent();

/** mulberry32: a small seeded PRNG giving u32 values. */
let state = seed >>> 0;
function u32(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}
const below = (n: number): number => u32() % n;
const chance = (p: number): boolean => u32() / 2 ** 32 < p;
const pick = <T>(items: readonly T[]): T => items[below(items.length)]!;

// Register like a normal client (and keep the connection: closing it would release what this process holds).
const registration = BlockingUnixSocket.connect(socket);
registration.write(JSON.stringify({ op: "register", pid: process.pid, cpu: 0 }) + "\n");
const answer = v.parse(RegistrationReplySchema, JSON.parse(registration.readLine(5000)));
if (!answer.ok || !("client" in answer)) throw new Error(`registration refused: ${JSON.stringify(answer)}`);
const reply: Extract<RegistrationReply, { client: number }> = answer;
const region = Region.open(reply.region);
const { bufferCount, bufferSize } = region.layout.params;
const rings = Array.from({ length: reply.queueCount }, (_, q) => new RawRing(region, q));
const own = region.buffer(reply.buffer);
const ownFds: number[] = [];
/** Up to three requests are in flight at once; each gets its own third of the buffer as its window. */
const IN_FLIGHT = 3;
const third = Math.floor(bufferSize / IN_FLIGHT);

const PATHS = ["/", ".", "..", "/../..", "/h", "/h/x", "../../../etc/passwd", "/h/../../x", "//h///y", "/h\u00e9", "a".repeat(300)];
const encoder = new TextEncoder();

/** Random bytes over a random part of the own buffer, sometimes one or two plausible paths at its start. */
function scribble(): void {
  const start = chance(0.5) ? 0 : below(bufferSize);
  const length = Math.min(bufferSize - start, below(chance(0.8) ? 512 : bufferSize));
  for (let i = 0; i < length; i++) own[start + i] = u32() & 0xff;
  if (chance(0.5)) plausiblePaths();
}

/** An i64 argument: small, a descriptor this process owns, near a boundary, or any 64 bits. */
function argument(): bigint {
  switch (below(6)) {
    case 0: return BigInt(below(70_000)) - 5n;
    case 1: return BigInt(ownFds.length > 0 ? pick(ownFds) : below(1 << 20));
    case 2: return pick([0n, 1n, -1n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n]);
    case 3: return BigInt(pick([0, 0o100, 0o1000, 0o2000, 0o40000, 0o200000, 0o400000, 0o20200000, 0o777, 0x100, 1, 2, 0o10600, 0o140600]));
    default: return BigInt.asIntN(64, (BigInt(u32()) << 32n) | BigInt(u32()));
  }
}

/** Writes one or two plausible paths at the start of window `window` of the own buffer. */
function plausiblePaths(window = 0): void {
  let at = window * third;
  for (const path of [pick(PATHS) + (chance(0.5) ? String(below(8)) : ""), pick(PATHS) + String(below(8))]) {
    const bytes = encoder.encode(path);
    own.set(bytes, at);
    own[at + bytes.length] = 0;
    at += bytes.length + 1;
  }
}

/**
 * Fills claimed `slot` of `ring`: random bytes over the whole descriptor, then either noise fields (any opcode, client,
 * buffer and window) or a well-formed request of a declared operation with random arguments, which gets past the
 * checks into the handlers.
 */
function fill(ring: RawRing, slot: number, window: number): number {
  const base = ring.queue.entryOffset(slot);
  for (let at = ENTRY.offsets.opcode; at < ENTRY.size; at++) region.bytes[base + at] = u32() & 0xff;
  const args = Array.from({ length: 6 }, argument);
  const start = window * third;
  if (chance(0.4)) {
    const op = pick(OPERATIONS);
    if (op.args[0] === "mount") args[0] = BigInt(below(3));
    else if (op.args[0] === "fd" && ownFds.length > 0 && chance(0.8)) args[0] = BigInt(pick(ownFds));
    if (op.name === "read" || op.name === "pread") args[1] = BigInt(below(third + 2));
    if (op.name === "pread" || op.name === "pwrite") args[op.name === "pread" ? 2 : 1] = chance(0.8) ? BigInt(below(1 << 20)) : argument();
    if (op.name === "mknod" && chance(0.5)) args[1] = BigInt(pick([0o10600, 0o140600, 0o10666]));
    if (chance(0.6)) plausiblePaths(window);
    ring.write(slot, { opcode: op.opcode, client: reply.client, buffer: reply.buffer, offset: start, length: chance(0.8) ? third : below(third), args, requestId: below(2 ** 31) });
    return op.opcode;
  }
  const opcode = chance(0.6) ? pick(OPERATIONS).opcode : chance(0.5) ? below(64) : u32();
  const inOwn = chance(0.6);
  let buffer = chance(0.7) ? reply.buffer : chance(0.5) ? below(bufferCount) : u32();
  // A window in the own buffer stays inside this request's third (any other buffer is refused unread).
  if (!inOwn && buffer === reply.buffer) buffer = (buffer + 1) % bufferCount;
  const offset = inOwn ? start + below(third) : chance(0.5) ? 0 : u32();
  const length = inOwn ? below(start + third - offset + 1) : chance(0.5) ? bufferSize : u32();
  ring.write(slot, {
    opcode,
    client: chance(0.7) ? reply.client : chance(0.5) ? 0 : u32(),
    buffer: inOwn ? reply.buffer : buffer,
    offset,
    length,
    args,
    requestId: below(2 ** 31),
  });
  if (chance(0.05)) region.view.setUint32(base + ENTRY.offsets.client, u32(), true); // and sometimes pure noise again
  return opcode;
}

/** A claimed entry of `ring`, waiting while the queue is full (a skip would change what the PRNG draws next). */
function claimWaiting(ring: RawRing): number {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const slot = ring.claim();
    if (slot >= 0) return slot;
    if (performance.now() > deadline) throw new Error(`no free entry in queue ${ring.queue.index} for 60 s`);
    Bun.sleepSync(1);
  }
}

const report: HostileReport = { seed, iterations, submitted: 0, garbageStates: 0, bufferScribbles: 0, answers: {}, opened: 0 };
for (let round = 0; round < iterations; round++) {
  if (chance(0.5)) {
    scribble();
    report.bufferScribbles++;
  }
  // Garbage (never one of the five states) into the state word of some empty entry of some queue.
  if (chance(0.3)) {
    const ring = pick(rings);
    let garbage = u32() | 0;
    if (garbage >= 0 && garbage <= 4) garbage = 5 + garbage;
    if (ring.poisonEmpty(below(ring.queue.capacity), garbage)) report.garbageStates++;
  }
  // One to three requests in flight at once, on any queue, each in its own window.
  const inFlight: { ring: RawRing; slot: number; opcode: number }[] = [];
  for (let n = 1 + below(IN_FLIGHT); n > 0; n--) {
    const ring = pick(rings);
    const slot = claimWaiting(ring);
    const opcode = fill(ring, slot, inFlight.length);
    ring.publish(slot);
    inFlight.push({ ring, slot, opcode });
    report.submitted++;
  }
  for (const { ring, slot, opcode } of inFlight) {
    const { result } = ring.queue.waitReply(slot, { timeoutMs: 60_000 });
    const name = result >= 0 ? "ok" : (errnoName(result) ?? `errno ${-result}`);
    report.answers[name] = (report.answers[name] ?? 0) + 1;
    if (opcode === OPCODE.open && result >= 0) {
      ownFds.push(result);
      report.opened++;
    }
  }
}
if (report.answers.EIO !== undefined) process.stderr.write(`hostile: ${report.answers.EIO} requests answered EIO (ERRNO ${ERRNO.EIO})\n`);
say(report);
