/**
 * @module test/services/fuse-legacy/churn — several processes create, rename (files and whole subtrees, also over one
 * shared name), read and unlink at once through one FUSE mount served by several Workers over the shared node table.
 * Every operation must succeed, every process must find exactly the names it left, the backing directory must hold
 * the same, and the server must log no handler bug: a node table that lost or mixed up a node shows as ESTALE,
 * ENOENT or wrong content here.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FuseServer } from "../../../services/fuse-legacy/server/index.ts";
import { mountTestsSkipped, recordingLogger, serveLocalBackend } from "./fixtures/mount-support.ts";

const skipped = mountTestsSkipped(import.meta.path);
const PROCESSES = 4;
const ROUNDS = 150;

describe.skipIf(skipped !== undefined)("concurrent churn through one mount with several serving Workers", () => {
  let base = "";
  let mnt = "";
  let backing = "";
  let server: FuseServer | undefined;
  const logger = recordingLogger();
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), "danaus-fuse-churn-"));
    mnt = join(base, "mnt");
    backing = join(base, "backing");
    mkdirSync(mnt);
    server = await serveLocalBackend(mnt, backing, { threads: 4, logger });
    mkdirSync(join(mnt, "shared"));
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(base, { recursive: true, force: true });
  });

  test("every operation succeeds and every process finds exactly what it left", async () => {
    const children = Array.from({ length: PROCESSES }, (_, id) =>
      Bun.spawn([process.execPath, join(import.meta.dir, "fixtures", "churn-child.ts"), mnt, String(id), String(ROUNDS)], { stdout: "pipe", stderr: "pipe" }),
    );
    const results = await Promise.all(
      children.map(async (child) => {
        const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
        return { code, err, report: JSON.parse(out) as { left: string[]; errors: string[] } };
      }),
    );
    // Each process keeps b<i> for every i not divisible by 3.
    const expected = Array.from({ length: ROUNDS }, (_, i) => i)
      .filter((i) => i % 3 !== 0)
      .map((i) => `b${i}`)
      .sort();
    for (const [id, { code, err, report }] of results.entries()) {
      expect(err).toBe("");
      expect(code).toBe(0);
      expect(report.errors).toEqual([]);
      expect(report.left).toEqual(expected);
      expect(readdirSync(join(backing, `p${id}`)).sort()).toEqual(expected);
    }
    expect(readdirSync(join(backing, "shared"))).toEqual(["winner"]);
    expect(logger.lines.filter((line) => line.level === "error")).toEqual([]);
  }, 120_000);
});
