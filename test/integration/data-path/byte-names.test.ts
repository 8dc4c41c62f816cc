/**
 * File names are bytes on the kernel path and the user-level path alike: through a legacy mount (fuse-legacy → ring →
 * tenant service → local backend), names and symlink targets that are not UTF-8 keep every byte, two names differing
 * in one such byte are two files (the reproduction of the report: `c-\xff` and `c-\xfe` once became one file), and the
 * TypeScript client returns the exact bytes with `{ encoding: "buffer" }`.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { useLegacyTenant } from "./legacy-fixture.ts";

setDefaultTimeout(60_000);
const legacy = useLegacyTenant("byte-names.test.ts", "danaus-bytes-");
const root = legacy.run;
const MOUNT = legacy.mount;

/** Runs a python3 program with the mount path as argv[1]; returns its stdout. */
function python(program: string): string {
  const run = Bun.spawnSync(["python3", "-c", program, MOUNT], { stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`python3 failed: ${run.stderr.toString()}`);
  return run.stdout.toString();
}

test.skipIf(!root)("two names differing in one byte that is not UTF-8 stay two files (the report's reproduction)", () => {
  const out = python(`
import os, sys
m = os.fsencode(sys.argv[1])
open(m + b"/c-\\xff", "wb").write(b"first")
open(m + b"/c-\\xfe", "wb").write(b"second")
print(open(m + b"/c-\\xff", "rb").read().decode(), open(m + b"/c-\\xfe", "rb").read().decode())
print(sorted(n.hex() for n in os.listdir(m) if n.startswith(b"c-")))
`);
  expect(out).toBe("first second\n['632dfe', '632dff']\n");
  // The backend holds exactly those bytes.
  const backend = join(legacy.setup.h!.dir, "state/backends/alpha/data");
  const names = readdirSync(Buffer.from(backend), { encoding: "buffer" }).map((n) => n.toString("hex")).filter((n) => n.startsWith("632d")).sort();
  expect(names).toEqual(["632dfe", "632dff"]);
  expect(readFileSync(Buffer.concat([Buffer.from(`${backend}/c-`), Buffer.from([0xff])]), "utf8")).toBe("first");
});

test.skipIf(!root)("a symlink target and a 255-byte name that are not UTF-8 read back exactly; 256 bytes: ENAMETOOLONG", () => {
  const out = python(`
import os, sys, errno
m = os.fsencode(sys.argv[1])
os.symlink(b"tgt-\\xff\\xfe", m + b"/link-\\x80")
print(os.readlink(m + b"/link-\\x80").hex())
long = b"\\xfe" * 255
open(m + b"/" + long, "wb").write(b"max")
print(open(m + b"/" + long, "rb").read().decode(), long in os.listdir(m))
try:
    open(m + b"/" + b"\\xfe" * 256, "wb")
except OSError as e:
    print(errno.errorcode[e.errno])
`);
  expect(out).toBe(`${Buffer.from("tgt-\xff\xfe", "latin1").toString("hex")}\nmax True\nENAMETOOLONG\n`);
});

test.skipIf(!root)("the TypeScript client: Buffer paths and { encoding: 'buffer' } give the exact bytes; strings are UTF-8", () => {
  const client = legacy.setup.client!;
  python(`
import os, sys
m = os.fsencode(sys.argv[1])
os.mkdir(m + b"/d")
open(m + b"/d/\\xe9", "wb").write(b"latin-1 e-acute")
open(m + b"/d/\\xc3\\xa9", "wb").write(b"utf-8 e-acute")
os.symlink(b"to-\\xff", m + b"/d/l")
`);
  const names = client.readdir(`${MOUNT}/d`, { encoding: "buffer" }).map((e) => e.name.toString("hex")).sort();
  expect(names).toEqual(["6c", "c3a9", "e9"]);
  // A string path is UTF-8 text: "é" names the two-byte file.
  expect(client.stat(`${MOUNT}/d/é`).st_size).toBe("utf-8 e-acute".length);
  expect(client.stat(Buffer.concat([Buffer.from(`${MOUNT}/d/`), Buffer.from([0xe9])])).st_size).toBe("latin-1 e-acute".length);
  expect(client.readlink(`${MOUNT}/d/l`, { encoding: "buffer" })).toEqual(Buffer.from([0x74, 0x6f, 0x2d, 0xff]));
  // The default decoding is node's: a byte that is not UTF-8 shows as U+FFFD.
  expect(client.readlink(`${MOUNT}/d/l`)).toBe("to-\ufffd");
});
