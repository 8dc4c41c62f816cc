/**
 * Malformed requests written straight into the ring by registered clients (unknown opcodes, windows outside the buffer,
 * buffers and descriptors of other clients, forged and stale descriptors, garbage state words) are answered with an
 * errno, and the router keeps serving a well-behaved client after each.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { ENTRY_STATE, ERRNO, OPCODE, OPERATIONS, STAT } from "../../../../kernel/ipc/protocol/index.ts";
import { Region } from "../../../../kernel/ipc/ring/index.ts";
import { Connection } from "../../../../shims/ts/connection.ts";
import { DanausClient } from "../../../../shims/ts/client.ts";
import { RingFileSystem } from "../../../../shims/ts/ring-fs.ts";
import { startTestRouter, type TestRouter } from "../router-harness.ts";
import { eventually, routerStats } from "./helpers.ts";
import { RawRing, type RawRequest } from "./raw-ring.ts";

const { O_CREAT, O_RDWR, O_TRUNC } = constants;
const BUFFER_SIZE = 65536;
const BUFFER_COUNT = 8;
const CAPACITY = 4;

let router: TestRouter;
let region: Region;
let raw: RawRing;
/** Two clients that registered normally; their ids and buffers are what the raw requests borrow. */
let a: Connection;
let b: Connection;
let good: DanausClient;
let goodRuns = 0;

beforeAll(async () => {
  router = await startTestRouter({ limits: { queueCapacity: CAPACITY, bufferCount: BUFFER_COUNT, bufferSize: BUFFER_SIZE } });
  region = Region.open(`${router.runtime.shmPrefix}region`);
  raw = new RawRing(region, 0);
  a = Connection.open(router.socket);
  b = Connection.open(router.socket);
  good = DanausClient.connect({ socket: router.socket });
}, 30_000);

afterAll(async () => {
  a?.close();
  b?.close();
  good?.disconnect();
  await router?.stop();
}, 30_000);

/** A request from client `from` in its own buffer, window [0, length). */
function own(from: Connection, opcode: number, args: RawRequest["args"] = [], length = 0): RawRequest {
  return { opcode, client: from.client, buffer: from.bufferIndex, offset: 0, length, args };
}

/** The well-behaved client writes a file of random bytes, reads it back and compares: the service still serves. */
function goodClientWorks(): void {
  const path = `/m0/good-${++goodRuns}`;
  const data = new Uint8Array(randomBytes(3 * BUFFER_SIZE + 123));
  const fd = good.open(path, O_CREAT | O_RDWR | O_TRUNC, 0o600);
  expect(good.write(fd, data)).toBe(data.length);
  const back = new Uint8Array(data.length);
  expect(good.pread(fd, back, 0)).toBe(data.length);
  expect(Buffer.compare(back, data)).toBe(0);
  good.close(fd);
}

/** The result of one raw request. */
function result(request: RawRequest): number {
  return raw.call(request).result;
}

describe("malformed requests", () => {
  test("an unknown opcode is answered -ENOSYS, whoever sends it", () => {
    const pastTheTable = Math.max(...OPERATIONS.map((op) => op.opcode)) + 1;
    for (const opcode of [0, 2, 15, pastTheTable, 1000, 0x7fffffff, 0xffffffff]) {
      expect(result(own(a, opcode, [1, 2, 3], 64))).toBe(-ERRNO.ENOSYS);
      expect(result({ opcode, client: 0, buffer: 0xffffffff, offset: 0xffffffff, length: 0xffffffff })).toBe(-ERRNO.ENOSYS);
    }
    goodClientWorks();
  });

  test("a window (buffer index, offset, length) outside the caller's buffer is answered -EINVAL", () => {
    const windows: Pick<RawRequest, "buffer" | "offset" | "length">[] = [
      { buffer: a.bufferIndex, offset: BUFFER_SIZE + 1, length: 0 },
      { buffer: a.bufferIndex, offset: 0, length: BUFFER_SIZE + 1 },
      { buffer: a.bufferIndex, offset: BUFFER_SIZE - 8, length: 16 },
      { buffer: a.bufferIndex, offset: 0xffffffff, length: 1 },
      { buffer: a.bufferIndex, offset: 1, length: 0xffffffff },
      { buffer: BUFFER_COUNT, offset: 0, length: 16 },
      { buffer: 0xffffffff, offset: 0, length: 16 },
    ];
    for (const window of windows) {
      for (const opcode of [OPCODE.null, OPCODE.open, OPCODE.pwrite, OPCODE.pread, OPCODE.stat]) {
        expect([opcode, window, result({ opcode, client: a.client, ...window, args: [0, 0, 0] })]).toEqual([opcode, window, -ERRNO.EINVAL]);
      }
    }
    // A window too small for the reply (a stat struct) or for any path.
    expect(result(own(a, OPCODE.fstat, [0], STAT.size - 1))).toBe(-ERRNO.EINVAL);
    expect(result(own(a, OPCODE.stat, [0], 1))).toBe(-ERRNO.EINVAL);
    goodClientWorks();
  });

  test("malformed path payloads and mount ids are answered -EINVAL", () => {
    a.buffer.fill(0x61, 0, 4096 + 16); // "aaaa…" without a NUL
    expect(result(own(a, OPCODE.open, [0, O_RDWR, 0], 64))).toBe(-ERRNO.EINVAL);
    a.buffer.set(new TextEncoder().encode("/x\0"), 0);
    for (const mount of [1, 7, -1, 2 ** 40, -(2n ** 63n)]) expect(result(own(a, OPCODE.stat, [mount], BUFFER_SIZE))).toBe(-ERRNO.EINVAL);
    // rename needs two paths; the window holds one.
    a.buffer.fill(0, 0, 64);
    a.buffer.set(new TextEncoder().encode("/x\0"), 0);
    expect(result(own(a, OPCODE.rename, [0, 0], 4))).toBe(-ERRNO.EINVAL);
    goodClientWorks();
  });

  test("staged paths (stage_paths): pieces out of order, past their total, a stage another request took, or none at all are answered -EINVAL; an oversized total ENAMETOOLONG", () => {
    const bytes = (text: string) => new TextEncoder().encode(text);
    const stage = (from: Connection, offset: number, total: number, piece: string) => {
      from.buffer.set(bytes(piece), 0);
      return result(own(from, OPCODE.stage_paths, [offset, total], piece.length));
    };
    const staged = (from: Connection, opcode: number, args: RawRequest["args"]) => {
      from.buffer[0] = 0;
      return result(own(from, opcode, args, 64));
    };
    // A request that says "staged" with nothing staged.
    expect(staged(a, OPCODE.mkdir, [0, 0o755])).toBe(-ERRNO.EINVAL);
    // A piece out of order, or past the total, drops the stage.
    expect(stage(a, 0, 12, "/staged")).toBe(7);
    expect(stage(a, 8, 12, "-dir")).toBe(-ERRNO.EINVAL);
    expect(stage(a, 7, 12, "-dir")).toBe(-ERRNO.EINVAL);
    expect(staged(a, OPCODE.mkdir, [0, 0o755])).toBe(-ERRNO.EINVAL);
    expect(stage(a, 0, 4, "/toolong")).toBe(-ERRNO.EINVAL);
    expect(stage(a, 0, 2 ** 40, "/x")).toBe(-ERRNO.ENAMETOOLONG);
    expect(stage(a, 0, 0, "")).toBe(-ERRNO.EINVAL);
    // Another client cannot add to a's stage (its buffer is not b's), nor take it.
    expect(stage(a, 0, 12, "/staged")).toBe(7);
    expect(result({ opcode: OPCODE.stage_paths, client: b.client, buffer: a.bufferIndex, offset: 0, length: 4, args: [7, 12] })).toBe(-ERRNO.EINVAL);
    expect(result({ opcode: OPCODE.mkdir, client: b.client, buffer: a.bufferIndex, offset: 0, length: 64, args: [0, 0o755] })).toBe(-ERRNO.EINVAL);
    expect(staged(b, OPCODE.mkdir, [0, 0o755])).toBe(-ERRNO.EINVAL);
    // Completed in order, it is what the next request of a's buffer uses, once.
    expect(stage(a, 7, 12, "-dir\0")).toBe(5);
    expect(staged(a, OPCODE.mkdir, [0, 0o755])).toBe(0);
    expect(good.fileSystem("/m0").lstat("/staged-dir").st_mode & 0o170000).toBe(0o040000);
    expect(staged(a, OPCODE.rmdir, [0])).toBe(-ERRNO.EINVAL);
    // A stage too short for the request's two paths.
    expect(stage(a, 0, 12, "/staged-dir\0")).toBe(12);
    expect(staged(a, OPCODE.rename, [0, 0])).toBe(-ERRNO.EINVAL);
    goodClientWorks();
  });

  test("a buffer of another client, or an unregistered client id, is answered -EINVAL", () => {
    const free = BUFFER_COUNT - 1; // allocated lowest first: a, b and the good client hold 0..2
    const cases: RawRequest[] = [
      { opcode: OPCODE.null, client: b.client, buffer: a.bufferIndex, offset: 0, length: 0 },
      { opcode: OPCODE.stat, client: a.client, buffer: b.bufferIndex, offset: 0, length: BUFFER_SIZE, args: [0] },
      { opcode: OPCODE.null, client: 0x1234567, buffer: a.bufferIndex, offset: 0, length: 0 },
      { opcode: OPCODE.null, client: 0x1234567, buffer: free, offset: 0, length: 0 },
      { opcode: OPCODE.null, client: 0, buffer: free, offset: 0, length: 0 },
      { opcode: OPCODE.null, client: 0xffffffff, buffer: free, offset: 0, length: 0 },
    ];
    for (const request of cases) expect([request, result(request)]).toEqual([request, -ERRNO.EINVAL]);
    // The same requests from their rightful owners work.
    expect(result(own(a, OPCODE.null))).toBe(0);
    expect(result(own(b, OPCODE.null))).toBe(0);
    goodClientWorks();
  });

  test("a descriptor of another client is answered -EBADF and stays usable by its owner", () => {
    const fsA = new RingFileSystem(a, 0);
    const fsB = new RingFileSystem(b, 0);
    const fd = fsA.open("/a-secret", O_CREAT | O_RDWR | O_TRUNC, 0o600);
    expect(fsA.pwrite(fd, new TextEncoder().encode("secret of a"), 0)).toBe(11);
    const fdOps: [number, RawRequest["args"], number][] = [
      [OPCODE.read, [fd, 16], 16], [OPCODE.pread, [fd, 16, 0], 16], [OPCODE.write, [fd], 4], [OPCODE.pwrite, [fd, 0], 4],
      [OPCODE.lseek, [fd, 0, 2], 0], [OPCODE.fstat, [fd], STAT.size], [OPCODE.ftruncate, [fd, 0], 0], [OPCODE.fsync, [fd], 0],
      [OPCODE.fdatasync, [fd], 0], [OPCODE.readdir, [fd, 0], BUFFER_SIZE], [OPCODE.close, [fd], 0],
    ];
    for (const [opcode, args, length] of fdOps) expect([opcode, result(own(b, opcode, args, length))]).toEqual([opcode, -ERRNO.EBADF]);
    expect(() => fsB.pread(fd, new Uint8Array(4), 0)).toThrow(expect.objectContaining({ code: "EBADF" }));
    expect(() => fsB.close(fd)).toThrow(expect.objectContaining({ code: "EBADF" }));
    // Nothing B did touched A's file or closed A's descriptor.
    const back = new Uint8Array(11);
    expect(fsA.pread(fd, back, 0)).toBe(11);
    expect(new TextDecoder().decode(back)).toBe("secret of a");
    fsA.close(fd);
    goodClientWorks();
  });

  test("forged and stale descriptors (closed, wrong generation, out of range, aliased above 32 bits) are answered -EBADF", () => {
    const fsA = new RingFileSystem(a, 0);
    const closed = fsA.open("/stale", O_CREAT | O_RDWR | O_TRUNC, 0o600);
    fsA.close(closed);
    // The slot is reused with a new generation: the old descriptor must not reach the new file.
    const reused = fsA.open("/fresh", O_CREAT | O_RDWR | O_TRUNC, 0o600);
    expect(fsA.pwrite(reused, new TextEncoder().encode("fresh"), 0)).toBe(5);
    const forged = [closed, reused ^ (1 << 16), reused + 2 ** 32, reused - 2 ** 32, reused + 2 ** 40, 0xffff, 0x3fffffff, -1, -(2 ** 62), 2 ** 62];
    for (const fd of forged) {
      expect([fd, result(own(a, OPCODE.pread, [fd, 5, 0], 5))]).toEqual([fd, -ERRNO.EBADF]);
      expect([fd, result(own(a, OPCODE.fstat, [fd], STAT.size))]).toEqual([fd, -ERRNO.EBADF]);
      expect([fd, result(own(a, OPCODE.close, [fd]))]).toEqual([fd, -ERRNO.EBADF]);
    }
    // None of those closes closed the real descriptor.
    const back = new Uint8Array(5);
    expect(fsA.pread(reused, back, 0)).toBe(5);
    expect(new TextDecoder().decode(back)).toBe("fresh");
    fsA.close(reused);
    expect(() => fsA.close(reused)).toThrow(expect.objectContaining({ code: "EBADF" }));
    goodClientWorks();
  });

  test("a result the reply cannot carry (lseek to 2^62 in a directory) is refused with an errno, and the service thread survives", () => {
    const fsA = new RingFileSystem(a, 0);
    const dir = fsA.open("/", constants.O_RDONLY | constants.O_DIRECTORY, 0);
    for (const offset of [2 ** 62, 2 ** 60 + 2 ** 12, 2 ** 53 + 2]) {
      let code = "ok";
      try {
        const at = fsA.lseek(dir, offset, 0);
        expect(Number.isSafeInteger(at)).toBe(true);
      } catch (error) {
        code = (error as { code: string }).code;
      }
      // ext4 takes 63-bit positions in a directory (EOVERFLOW here); other filesystems refuse them (EINVAL).
      expect(["EOVERFLOW", "EINVAL"]).toContain(code);
      goodClientWorks();
    }
    fsA.close(dir);
  });

  test("garbage in the state words of empty entries is repaired and does not stop service", async () => {
    const garbage = [0xdeadbeef | 0, 5, -1, 0x7fffffff, -2147483648, 77];
    for (let round = 0; round < 5; round++) {
      // Poison every free entry: the good client can only get in once the service repairs one.
      for (let slot = 0; slot < CAPACITY; slot++) raw.poisonEmpty(slot, garbage[(slot + round) % garbage.length]!);
      goodClientWorks();
    }
    await eventually("every entry repaired to EMPTY", () => raw.states().every((state) => state === ENTRY_STATE.EMPTY));
    goodClientWorks();
  });

  test("after all that the router is alive, holds only what live clients hold, and logged no handler bug", async () => {
    const stats = await routerStats(router);
    expect(stats).toMatchObject({ clients: 3, openFiles: 0, buffersInUse: 3 });
    expect(router.proc.exitCode).toBeNull();
    expect(router.logs.filter((line) => line.includes("request handler failed") || line.includes("service thread crashed"))).toEqual([]);
  });
});
