/**
 * copy_range through the ring (protocol 7): the service copies between two of the requesting client's open files, on
 * two mounts, in windows of the client's request buffer; a short copy at the end of the source; errno for a
 * descriptor that is not the client's own (another client's included) and for a negative offset.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { constants } from "node:fs";
import { DanausClient, FsError } from "../../../shims/ts/index.ts";
import { ERRNO } from "../../../kernel/ipc/protocol/index.ts";
import { startTestRouter, type TestRouter } from "../../services/ipc-router/router-harness.ts";

let router: TestRouter;
let client: DanausClient;
let other: DanausClient;

beforeAll(async () => {
  router = await startTestRouter({ mounts: 2 });
  client = DanausClient.connect({ socket: router.socket });
  other = DanausClient.connect({ socket: router.socket });
}, 30_000);
afterAll(async () => {
  client?.disconnect();
  other?.disconnect();
  await router?.stop();
}, 30_000);

const errnoOf = (call: () => unknown): number | undefined => {
  try {
    call();
  } catch (error) {
    if (error instanceof FsError) return error.errno;
    throw error;
  }
  return undefined;
};

test("copies across mounts in several windows, short at the end of the source", () => {
  const from = client.fileSystem("/m0");
  const to = client.fileSystem("/m1");
  // 3 MiB and a bit: more than the 1 MiB request buffer the service copies through.
  const data = new Uint8Array(3 * 1024 * 1024 + 123).map((_, i) => (i * 31 + 7) & 0xff);
  const input = from.open("/src", constants.O_CREAT | constants.O_RDWR, 0o644);
  const out = to.open("/dst", constants.O_CREAT | constants.O_RDWR, 0o644);
  try {
    expect(from.pwrite(input, data, 0)).toBe(data.length);
    expect(to.copyRange(out, 10, input, 0, 8 * 1024 * 1024)).toBe(data.length);
    expect(to.copyRange(out, 10 + data.length, input, data.length, 100)).toBe(0);
    expect(to.fstat(out).st_size).toBe(10 + data.length);
    const back = new Uint8Array(data.length);
    expect(to.pread(out, back, 10)).toBe(data.length);
    expect(Buffer.compare(back, data)).toBe(0);
    // A middle range, over what is there.
    expect(to.copyRange(out, 0, input, 1000, 10)).toBe(10);
    const head = new Uint8Array(10);
    to.pread(out, head, 0);
    expect([...head]).toEqual([...data.subarray(1000, 1010)]);
  } finally {
    from.close(input);
    to.close(out);
  }
});

test("EBADF for a descriptor the client does not hold, another client's included; EINVAL for a negative offset", () => {
  const fs = client.fileSystem("/m0");
  const out = fs.open("/mine", constants.O_CREAT | constants.O_RDWR, 0o644);
  const theirsFs = other.fileSystem("/m0");
  const theirs = theirsFs.open("/theirs", constants.O_CREAT | constants.O_RDWR, 0o644);
  try {
    expect(theirsFs.pwrite(theirs, new TextEncoder().encode("secret"), 0)).toBe(6);
    expect(errnoOf(() => fs.copyRange(out, 0, theirs, 0, 6))).toBe(ERRNO.EBADF);
    expect(errnoOf(() => fs.copyRange(out, 0, 0x7ffffff, 0, 6))).toBe(ERRNO.EBADF);
    expect(errnoOf(() => fs.copyRange(out, -1, out, 0, 6))).toBe(ERRNO.EINVAL);
    expect(errnoOf(() => fs.copyRange(out, 0, out, 0, -6))).toBe(ERRNO.EINVAL);
    expect(fs.fstat(out).st_size).toBe(0);
  } finally {
    fs.close(out);
    theirsFs.close(theirs);
  }
});
