/**
 * @module test/services/fuse-legacy/parallel — several serving Workers answer requests at the same time: two reads
 * that can only finish together (a rendezvous in the served FileSystem) both succeed with two Workers, and one of
 * them fails with one Worker. Through the real kernel FUSE, as root.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FuseServer } from "../../../services/fuse-legacy/server/index.ts";
import { mountTestsSkipped, recordingLogger } from "./fixtures/mount-support.ts";

const skipped = mountTestsSkipped(import.meta.path);
const RENDEZVOUS_OPENER = new URL("./fixtures/open-rendezvous.ts", import.meta.url).pathname;

describe.skipIf(skipped !== undefined)("serving Workers of one mount", () => {
  let base = "";
  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), "danaus-fuse-parallel-"));
  });
  afterAll(() => {
    rmSync(base, { recursive: true, force: true });
  });

  /** Serves a fresh backing directory with `threads` Workers; two concurrent `cat`s of rendezvous files; their exit codes. */
  async function twoReads(threads: number): Promise<{ codes: number[]; outputs: string[] }> {
    const root = join(base, `backing-${threads}`);
    const mountPoint = join(base, `mnt-${threads}`);
    mkdirSync(root);
    mkdirSync(mountPoint);
    writeFileSync(join(root, "a"), "meet! from a\n");
    writeFileSync(join(root, "b"), "meet! from b\n");
    const arrived = new SharedArrayBuffer(4);
    const server = await FuseServer.start({
      mountPoint,
      threads,
      opener: { module: RENDEZVOUS_OPENER, spec: { root, arrived, parties: 2 } },
      directIo: true,
      logger: recordingLogger(),
    });
    try {
      const readers = ["a", "b"].map((name) => Bun.spawn(["cat", join(mountPoint, name)], { stdout: "pipe", stderr: "pipe" }));
      const codes = await Promise.all(readers.map((reader) => reader.exited));
      const outputs = await Promise.all(readers.map((reader) => new Response(reader.stdout).text()));
      return { codes, outputs };
    } finally {
      await server.stop();
    }
  }

  test("two Workers serve two blocked reads at once", async () => {
    const { codes, outputs } = await twoReads(2);
    expect(codes).toEqual([0, 0]);
    expect(outputs).toEqual(["meet! from a\n", "meet! from b\n"]);
  }, 30_000);

  test("one Worker serves one read at a time (the first read waits alone and fails)", async () => {
    const { codes } = await twoReads(1);
    expect(codes.filter((code) => code !== 0).length).toBeGreaterThanOrEqual(1);
  }, 30_000);
});
