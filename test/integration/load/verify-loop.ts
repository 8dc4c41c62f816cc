/**
 * A child process: a paced, verifying 4 KiB random read/write loop on one path of a tenant — `client` (the TypeScript
 * client over the shared-memory ring) or `kernel` (node:fs on a `legacy = true` FUSE mount). It prints JSON lines:
 * `{ready}` once its files are laid out, then a report every `reportMs` (see {@link LoopReport}), and a last report
 * with `final: true` after the command `stop` on stdin.
 *
 * Every read is checked against what this loop last wrote there (it is the only writer of its files). A write that
 * failed may or may not have landed, so until the next acknowledged write of the block it also accepts the content
 * of every write to it that failed since (a fault may fail several in a row, and any of them may be the one that
 * landed). A failed call is counted with its errno, the file is opened again, and the loop goes on.
 */
import { closeSync, constants, openSync, readSync, writeSync } from "node:fs";
import { DanausClient } from "../../../shims/ts/client.ts";
import { commandLines, dieWithParent, say } from "../../services/ipc-router/robustness/helpers.ts";
import { BLOCK_BYTES, type LoopOptions, type LoopReport } from "./loop-report.ts";

const options = JSON.parse(process.argv[2]!) as LoopOptions;
await dieWithParent();

/** The file operations the loop needs, on either path. */
interface Files {
  open(path: string, create: boolean): number;
  pread(fd: number, into: Uint8Array, at: number): number;
  pwrite(fd: number, from: Uint8Array, at: number): number;
  close(fd: number): void;
}

function clientFiles(socket: string): Files {
  const client = DanausClient.connect({ socket });
  return {
    open: (path, create) => client.open(path, constants.O_RDWR | (create ? constants.O_CREAT | constants.O_TRUNC : 0), 0o644),
    pread: (fd, into, at) => client.pread(fd, into, at),
    pwrite: (fd, from, at) => client.pwrite(fd, from, at),
    close: (fd) => client.close(fd),
  };
}

const kernelFiles: Files = {
  open: (path, create) => openSync(path, constants.O_RDWR | (create ? constants.O_CREAT | constants.O_TRUNC : 0), 0o644),
  pread: (fd, into, at) => readSync(fd, into, 0, into.length, at),
  pwrite: (fd, from, at) => writeSync(fd, from, 0, from.length, at),
  close: (fd) => closeSync(fd),
};

const files = options.path === "client" ? clientFiles(options.socket!) : kernelFiles;
const blocks = Math.floor(options.fileBytes / BLOCK_BYTES);
const names = Array.from({ length: options.files }, (_, i) => `${options.dir}/${options.name}-${i}`);
/** The sequence number each block holds, and those it may hold instead: writes that failed since the last acknowledged one. */
const expected = names.map(() => new Int32Array(blocks));
const maybe = names.map(() => Array.from({ length: blocks }, () => [] as number[]));
const fds: (number | null)[] = names.map(() => null);
const out = new Uint8Array(BLOCK_BYTES);
const into = new Uint8Array(BLOCK_BYTES);
const outWords = new Uint32Array(out.buffer);
const intoWords = new Uint32Array(into.buffer);

/** Fills `words` with the content of block `block` of file `file` at sequence number `seq`. */
function pattern(words: Uint32Array, file: number, block: number, seq: number): void {
  words[0] = (file << 20) | block;
  words[1] = seq;
  let x = (seq * 2654435761 + block * 40503 + file * 97) >>> 0;
  for (let i = 2; i < words.length; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    words[i] = x;
  }
}

const scratch = new Uint32Array(BLOCK_BYTES / 4);
function holds(file: number, block: number, seq: number): boolean {
  if (seq < 0) return false;
  pattern(scratch, file, block, seq);
  for (let i = 0; i < scratch.length; i++) if (scratch[i] !== intoWords[i]) return false;
  return true;
}

let report: LoopReport = emptyReport();
function emptyReport(): LoopReport {
  return { t: 0, reads: 0, writes: 0, errors: 0, errorSamples: [], verifyFailures: 0, verifySamples: [], okStart: [], okMs: [] };
}
let samplesLeft = 50;

function failed(op: string, file: number, started: number, error: unknown): void {
  report.errors++;
  if (samplesLeft > 0) {
    samplesLeft--;
    report.errorSamples.push({ at: started, op, file: names[file]!, code: (error as { code?: string }).code ?? "", message: String((error as Error).message ?? error).slice(0, 300) });
  }
  const fd = fds[file];
  fds[file] = null;
  if (fd !== null && fd !== undefined) {
    try {
      files.close(fd);
    } catch {
      // the descriptor died with the service that opened it
    }
  }
}

function fdOf(file: number): number {
  return (fds[file] ??= files.open(names[file]!, false));
}

let seq = 0;
/** One 4 KiB pread or pwrite at a random block, recorded in the current report. */
function step(): void {
  const file = Math.floor(Math.random() * names.length);
  const block = Math.floor(Math.random() * blocks);
  const write = Math.random() < 0.5;
  const startedAt = performance.timeOrigin + performance.now();
  const t0 = performance.now();
  if (write) {
    const next = ++seq;
    pattern(outWords, file, block, next);
    try {
      const n = files.pwrite(fdOf(file), out, block * BLOCK_BYTES);
      if (n !== BLOCK_BYTES) throw Object.assign(new Error(`short write: ${n} of ${BLOCK_BYTES} bytes`), { code: "SHORT" });
      expected[file]![block] = next;
      maybe[file]![block] = [];
    } catch (error) {
      maybe[file]![block]!.push(next);
      return failed("pwrite", file, startedAt, error);
    }
    report.writes++;
  } else {
    let n: number;
    try {
      n = files.pread(fdOf(file), into, block * BLOCK_BYTES);
    } catch (error) {
      return failed("pread", file, startedAt, error);
    }
    report.reads++;
    const landed = n === BLOCK_BYTES ? maybe[file]![block]!.find((seq) => holds(file, block, seq)) : undefined;
    if (n === BLOCK_BYTES && holds(file, block, expected[file]![block]!)) {
      // as written
    } else if (landed !== undefined) {
      // A failed write landed; the others that failed since may still be what a later read finds.
      expected[file]![block] = landed;
    } else {
      report.verifyFailures++;
      if (report.verifySamples.length < 10) {
        const failedSeqs = maybe[file]![block]!;
        report.verifySamples.push({ at: startedAt, file: names[file]!, block, bytes: n, expectedSeq: expected[file]![block]!, orSeq: failedSeqs.at(-1) ?? -1, foundHeader: [intoWords[0]!, intoWords[1]!] });
      }
      return;
    }
  }
  report.okStart.push(Math.round(startedAt * 10) / 10);
  report.okMs.push(Math.round((performance.now() - t0) * 1000) / 1000);
}

function flush(final: boolean): void {
  report.t = Date.now();
  if (final) report.final = true;
  say(report);
  report = emptyReport();
}

/** Writes every file whole, each block at one new sequence number, and expects just that from now on. */
function layOut(): void {
  const whole = new Uint8Array(options.fileBytes);
  const wholeWords = new Uint32Array(whole.buffer);
  const at0 = ++seq;
  for (let file = 0; file < names.length; file++) {
    for (let block = 0; block < blocks; block++) pattern(wholeWords.subarray(block * (BLOCK_BYTES / 4), (block + 1) * (BLOCK_BYTES / 4)), file, block, at0);
    const old = fds[file];
    if (old !== null && old !== undefined) files.close(old);
    fds[file] = null;
    const fd = files.open(names[file]!, true);
    for (let at = 0; at < whole.length; ) at += files.pwrite(fd, whole.subarray(at), at);
    fds[file] = fd;
    expected[file]!.fill(at0);
    for (const seqs of maybe[file]!) seqs.length = 0;
  }
}

layOut();
say({ ready: true, pid: process.pid });

let running = true;
let relayOut = false;
void commandLines((line) => {
  if (line === "stop") running = false;
  // A clean slate after a test found lost writes, so the next check sees only what happens next.
  if (line === "relayout") relayOut = true;
});

const interval = options.opsPerSecond > 0 ? 1000 / options.opsPerSecond : 0;
let next = performance.now();
let lastFlush = next;
while (running) {
  const now = performance.now();
  if (next > now) {
    await Bun.sleep(Math.max(1, next - now));
    continue;
  }
  // After a stall (a fault held a call), go on at the pace instead of catching up in a burst.
  next = Math.max(next + interval, now - 100);
  if (relayOut) {
    relayOut = false;
    try {
      layOut();
      report.relaidOut = true;
    } catch (error) {
      // Tried again at the next turn (a restarted service answers the first call of an old connection ENOTCONN).
      relayOut = true;
      failed("lay out", 0, Date.now(), error);
    }
  }
  step();
  if (performance.now() - lastFlush >= options.reportMs) {
    flush(false);
    lastFlush = performance.now();
    // Let stdin commands in even when the loop is behind its pace.
    await Bun.sleep(0);
  }
}
flush(true);
process.exit(0);
