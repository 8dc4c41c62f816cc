/**
 * @module test/services/union/rename-dir-crash — a directory rename killed while its tree is being copied up, or just
 * before its final rename, leaves the old view whole (every entry once, at the old name, nothing at the new one, no
 * temp name listed); the rename run again completes.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend } from "../../../services/client-cache/backend/index.ts";
import { createUnionShared, UnionFileSystem } from "../../../services/union/index.ts";
import { listNames, readFile } from "../../conformance/harness.ts";

const child = join(import.meta.dir, "rename-dir-crash-child.ts");
let base: string;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "danaus-union-rename-crash-"));
  const d = join(base, "lower", "d");
  mkdirSync(join(d, "sub"), { recursive: true });
  for (let i = 0; i < 30; i++) writeFileSync(join(d, `f${String(i).padStart(2, "0")}`), `content of f${i}\n`.repeat(100 + i));
  for (let i = 0; i < 10; i++) writeFileSync(join(d, "sub", `g${i}`), `content of g${i}\n`);
  symlinkSync("f00", join(d, "link"));
  chmodSync(join(d, "sub"), 0o750);
  mkdirSync(join(base, "upper"));
});

afterEach(() => rmSync(base, { recursive: true, force: true }));

/** Every visible entry under `dir` of a fresh union over the branches, with its mode and content or target. */
function view(dir: string): string[] {
  const upper = new LocalBackend(join(base, "upper"));
  const lower = new LocalBackend(join(base, "lower"));
  try {
    const fs = new UnionFileSystem({ upper, lowers: [lower] }, createUnionShared());
    const walk = (path: string): string[] =>
      listNames(fs, path).flatMap((name) => {
        const at = `${path}/${name}`;
        const st = fs.lstat(at);
        const head = `${at.slice(dir.length)} ${st.st_mode.toString(8)}`;
        if ((st.st_mode & 0o170000) === 0o040000) return [head, ...walk(at)];
        if ((st.st_mode & 0o170000) === 0o120000) return [`${head} -> ${fs.readlink(at)}`];
        return [`${head} ${Bun.hash(readFile(fs, at))}`];
      });
    return walk(dir);
  } finally {
    upper.dispose();
    lower.dispose();
  }
}

function rootNames(): string[] {
  const upper = new LocalBackend(join(base, "upper"));
  const lower = new LocalBackend(join(base, "lower"));
  try {
    const fs = new UnionFileSystem({ upper, lowers: [lower] }, createUnionShared());
    return listNames(fs, "");
  } finally {
    upper.dispose();
    lower.dispose();
  }
}

/** Runs the child until it reports it is stuck at `stop`, then SIGKILLs it. */
async function killAt(stop: string): Promise<void> {
  const proc = Bun.spawn([process.execPath, child, join(base, "upper"), join(base, "lower"), "d", "moved", stop], { stdout: "pipe", stderr: "inherit" });
  let said = "";
  const decoder = new TextDecoder();
  for await (const chunk of proc.stdout) {
    said += decoder.decode(chunk);
    if (said.includes("stuck") || said.includes("done")) break;
  }
  proc.kill("SIGKILL");
  await proc.exited;
  expect(said).toContain("stuck");
}

async function finish(): Promise<void> {
  const proc = Bun.spawn([process.execPath, child, join(base, "upper"), join(base, "lower"), "d", "moved", "none"], { stdout: "pipe", stderr: "inherit" });
  expect(await proc.exited).toBe(0);
}

for (const stop of ["read:f17", "read:g5", "rename"]) {
  test(`SIGKILL at ${stop}: the old view whole, then the rename completes`, async () => {
    const before = view("d");
    expect(before.length).toBe(42);
    await killAt(stop);
    // Part of the tree is in the upper already (for "rename", all of it, and the old name's whiteout).
    expect(readdirSync(join(base, "upper", "d")).filter((name) => name.startsWith("f")).length).toBeGreaterThan(stop === "rename" ? 29 : 0);
    expect(rootNames()).toEqual(["d"]);
    expect(view("d")).toEqual(before);
    await finish();
    expect(rootNames()).toEqual(["moved"]);
    expect(view("moved")).toEqual(before);
  }, 60_000);
}
