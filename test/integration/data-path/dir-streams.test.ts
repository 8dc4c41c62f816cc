/**
 * Directory streams under a real supervisor: rounds of 1,000 streams held open at once (each read once, then all
 * closed), through the TypeScript client and through a FUSE mount, leave each service's RSS within the README's
 * allowance over its baseline (the bound is on memory, never on time); the tenant's `maxDirStreams` answers EMFILE
 * past it on both paths, and closing a stream makes room again.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileCalls } from "../../../kernel/sys/libc.ts";
import { waitFor } from "../harness.ts";
import { startLegacy, stopLegacy, type LegacySetup } from "./legacy-fixture.ts";

setDefaultTimeout(180_000);
const root = process.getuid?.() === 0 && existsSync("/dev/fuse");
if (!root) {
  if (process.env.CI === "true") throw new Error("dir-streams.test.ts needs root and /dev/fuse, and CI has both");
  process.stderr.write("SKIP dir-streams.test.ts: FUSE mounts need root and /dev/fuse\n");
}

/** The tenant's limit; a round holds exactly this many streams, so the next one must be refused. */
const LIMIT = 1000;
const ROUNDS = 5;
// The baseline is each process's RSS before the first round, so what the first round compiles and allocates counts.
/**
 * README, "Memory bounds": a service's RSS after load stays within this of its baseline (the GC pacer's 16 MiB
 * full-collection trigger per serving thread, plus the quick collections' slack).
 */
const ALLOWANCE = 48 * 1024 * 1024;
const { O_DIRECTORY, O_RDONLY } = constants;

const base = mkdtempSync(join(tmpdir(), "danaus-dirstreams-"));
const MOUNT = join(base, "mnt");
let setup: Partial<LegacySetup> = {};

/** VmRSS of `pid` in bytes. */
function rss(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kib) * 1024;
}

async function servicePids(): Promise<{ dataPath: number; fuse: number }> {
  const pids = await setup.h!.pids("alpha");
  const dataPath = pids["ipc-router"];
  const fuse = pids["fuse-legacy"];
  if (!dataPath || !fuse) throw new Error(`alpha's processes are not running: ${JSON.stringify(pids)}`);
  return { dataPath, fuse };
}

/** Waits until every pid's RSS is within ALLOWANCE of its baseline; the wait's deadline only bounds a failure. */
async function expectBackWithin(baseline: Map<number, number>): Promise<void> {
  const over = () => [...baseline].filter(([pid, before]) => rss(pid) > before + ALLOWANCE);
  await waitFor("RSS back within the allowance", () => over().length === 0 || null, 30_000).catch(() => undefined);
  for (const [pid, before] of baseline) {
    const now = rss(pid);
    process.stderr.write(`dir-streams: pid ${pid} RSS ${(before / 2 ** 20).toFixed(1)} -> ${(now / 2 ** 20).toFixed(1)} MiB\n`);
    expect(now).toBeLessThanOrEqual(before + ALLOWANCE);
  }
}

function errnoOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
  return "no error";
}

beforeAll(async () => {
  if (!root) return;
  const tenant = [`name = "alpha"`, `cpus = [0]`, `memory = "512MiB"`, `shareCpus = true`, `maxDirStreams = ${LIMIT}`, `[cache]`, `size = "16MiB"`,
    `[backend]`, `kind = "local"`, `root = "backends/alpha"`, `[[mounts]]`, `path = "${MOUNT}"`, `source = "data"`, `legacy = true`].join("\n");
  setup = await startLegacy(tenant, MOUNT);
  mkdirSync(join(MOUNT, "wide"));
  for (let i = 0; i < 300; i++) writeFileSync(join(MOUNT, "wide", `entry-with-a-longer-name-${i}`), "");
  mkdirSync(join(MOUNT, "small"));
  for (let i = 0; i < 20; i++) writeFileSync(join(MOUNT, "small", `e${i}`), "");
}, 60_000);
afterAll(() => stopLegacy(setup, MOUNT, base), 60_000);

describe.skipIf(!root)("directory streams", () => {
  test("TypeScript client: 1,000 streams at a time, EMFILE past maxDirStreams, RSS back within the allowance", async () => {
    const client = setup.client!;
    const { dataPath } = await servicePids();
    const round = (checkLimit: boolean) => {
      const fds: number[] = [];
      for (let i = 0; i < LIMIT; i++) {
        const fd = client.open(`${MOUNT}/wide`, O_RDONLY | O_DIRECTORY);
        fds.push(fd);
        expect(client.readdirBatch(fd, 0).length).toBeGreaterThan(0);
      }
      if (checkLimit) {
        expect(errnoOf(() => client.open(`${MOUNT}/wide`, O_RDONLY | O_DIRECTORY))).toBe("EMFILE");
        // A plain open is no stream, until it is read as a directory.
        const plain = client.open(`${MOUNT}/wide`, O_RDONLY);
        const refused = errnoOf(() => client.readdirBatch(plain, 0));
        client.close(plain);
        expect(refused).toBe("EMFILE");
        client.close(fds.pop()!);
        const again = client.open(`${MOUNT}/wide`, O_RDONLY | O_DIRECTORY);
        expect(again).toBeGreaterThan(0);
        fds.push(again);
      }
      for (const fd of fds) client.close(fd);
    };
    const baseline = new Map([[dataPath, rss(dataPath)]]);
    for (let i = 0; i < ROUNDS; i++) round(i === 0);
    await expectBackWithin(baseline);
  });

  test("FUSE mount: 1,000 streams at a time, EMFILE past maxDirStreams, RSS back within the allowance", async () => {
    const { dataPath, fuse } = await servicePids();
    const buffer = Buffer.alloc(32 * 1024);
    const dir = join(MOUNT, "small");
    // The kernel sends RELEASEDIR after close(2) returns: a stream just closed may still count, so an open refused
    // with EMFILE is tried again until the release arrives (the event), never after a fixed delay.
    const openStream = () =>
      waitFor("a directory stream released by the kernel", () => {
        try {
          return openSync(dir, O_RDONLY | O_DIRECTORY);
        } catch (error) {
          if ((error as { code?: string }).code === "EMFILE") return null;
          throw error;
        }
      });
    const round = async (checkLimit: boolean) => {
      const fds: number[] = [];
      try {
        for (let i = 0; i < LIMIT; i++) {
          const fd = await openStream();
          fds.push(fd);
          expect(fileCalls.getdents64(fd, buffer, buffer.length)).toBeGreaterThan(0);
        }
        if (checkLimit) {
          expect(errnoOf(() => openSync(dir, O_RDONLY | O_DIRECTORY))).toBe("EMFILE");
          closeSync(fds.pop()!);
          fds.push(await openStream());
        }
      } finally {
        for (const fd of fds) closeSync(fd);
      }
    };
    const baseline = new Map([
      [dataPath, rss(dataPath)],
      [fuse, rss(fuse)],
    ]);
    for (let i = 0; i < ROUNDS; i++) await round(i === 0);
    await expectBackWithin(baseline);
  });
});
