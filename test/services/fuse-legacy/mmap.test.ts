/**
 * @module test/services/fuse-legacy/mmap — shared mmap on a direct-I/O FUSE mount (FUSE_DIRECT_IO_ALLOW_MMAP):
 * `mmap(MAP_SHARED)` reads and writes, coherent with pwrite through the same and another descriptor, and sqlite3 in
 * WAL mode (which maps its -shm file shared). Before, such a mapping answered ENODEV. Skipped with a printed reason
 * when not root or without /dev/fuse (failed under CI=true).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FuseServer } from "../../../services/fuse-legacy/server/index.ts";
import { mountTestsSkipped, serveLocalBackend, stopAndRemove } from "./fixtures/mount-support.ts";

const skipped = mountTestsSkipped("mmap.test.ts");
const base = mkdtempSync(join(tmpdir(), "danaus-fuse-mmap-"));
const mountPoint = join(base, "mnt");
let server: FuseServer | undefined;

beforeAll(async () => {
  if (skipped !== undefined) return;
  mkdirSync(mountPoint);
  server = await serveLocalBackend(mountPoint, join(base, "root"), { directIo: true });
});
afterAll(() => stopAndRemove(server, mountPoint, base));

function python(program: string): string {
  const run = spawnSync("python3", ["-c", program, mountPoint], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr}`);
  return run.stdout;
}

test.skipIf(skipped !== undefined)("MAP_SHARED reads and writes, coherent with pwrite through the same and another descriptor", () => {
  expect(python(`
import mmap, os, sys
p = os.path.join(sys.argv[1], "f")
open(p, "wb").write(b"0123456789")
fd = os.open(p, os.O_RDWR)
m = mmap.mmap(fd, 10, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
m[0:3] = b"abc"
m.flush()
other = os.open(p, os.O_RDONLY)
print(os.pread(other, 10, 0).decode())
os.pwrite(fd, b"XY", 5)
print(bytes(m[0:10]).decode())
os.pwrite(os.open(p, os.O_WRONLY), b"Z", 9)
print(bytes(m[0:10]).decode())
`)).toBe("abc3456789\nabc34XY789\nabc34XY78Z\n");
});

test.skipIf(skipped !== undefined)("sqlite3 in WAL mode: transactions, integrity_check, a second connection reads them", () => {
  expect(python(`
import os, sqlite3, sys
p = os.path.join(sys.argv[1], "db.sqlite")
db = sqlite3.connect(p)
print(db.execute("PRAGMA journal_mode=WAL").fetchone()[0])
db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
for batch in range(10):
    with db:
        db.executemany("INSERT INTO t (v) VALUES (?)", [("row %d" % (batch * 100 + i),) for i in range(100)])
print(db.execute("PRAGMA integrity_check").fetchone()[0])
second = sqlite3.connect(p)
print(second.execute("SELECT count(*) FROM t").fetchone()[0])
db.close(); second.close()
`)).toBe("wal\nok\n1000\n");
});
