/** @module test/services/union/confinement — no path through the union, nor a symlink in any branch, reaches outside the branch roots. */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend } from "../../../services/client-cache/backend/index.ts";
import { FsError } from "../../../kernel/ipc/protocol/index.ts";
import { createUnionShared, UnionFileSystem } from "../../../services/union/index.ts";
import { escapeAttempts, runEscapeAttempts } from "../../conformance/escape-attempts.ts";
import { O_RDONLY, readFile, writeFile } from "../../conformance/harness.ts";

interface Jail {
  base: string;
  roots: string[];
  outside: string;
  upper: LocalBackend;
  lower: LocalBackend;
  fs: UnionFileSystem;
}

let jail: Jail;

/** A relative path that climbs to the host's "/" and comes down to `hostPath`. */
function climbTo(hostPath: string): string {
  return "../".repeat(16) + hostPath.slice(1);
}

/** Escaping symlinks, planted in the lower (on disk) and through the union (so in the upper). */
function links(): [string, string][] {
  return [
    ["absout", jail.outside],
    ["abssentinel", join(jail.outside, "sentinel")],
    ["up", "../../.."],
    ["out", "../../../outside"],
    ["outfile", "../../../outside/sentinel"],
    ["climb", climbTo(jail.outside)],
  ];
}

function plant(): void {
  for (const [name, target] of links()) {
    try {
      jail.fs.lstat(name);
    } catch {
      jail.fs.symlink(target, name);
    }
  }
}

beforeEach(() => {
  const base = mkdtempSync(join(tmpdir(), "danaus-union-jail-"));
  const upperRoot = join(base, "jail", "deep", "upper");
  const lowerRoot = join(base, "jail", "deep", "lower");
  const outside = join(base, "outside");
  mkdirSync(join(outside, "dir"), { recursive: true });
  writeFileSync(join(outside, "sentinel"), "secret");
  writeFileSync(join(outside, "dir", "inner"), "inner secret");
  mkdirSync(join(lowerRoot, "lowdir"), { recursive: true });
  writeFileSync(join(lowerRoot, "lowdir", "file"), "lower");
  const upper = new LocalBackend(upperRoot);
  const lower = new LocalBackend(lowerRoot);
  const fs = new UnionFileSystem({ upper, lowers: [lower] }, createUnionShared({ maxDirHandles: 16 }));
  jail = { base, roots: [upperRoot, lowerRoot], outside, upper, lower, fs };
  // The lower's own escaping symlinks, under other names.
  for (const [name, target] of links()) symlinkSync(target, join(lowerRoot, "lowdir", name));
  plant();
});

afterEach(() => {
  jail.upper.dispose();
  jail.lower.dispose();
  rmSync(jail.base, { recursive: true, force: true });
});

/** Everything observable outside the branch roots. */
function snapshotOutside(): string {
  const lines: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (jail.roots.includes(path)) continue;
      const st = lstatSync(path, { bigint: true });
      const content = st.isFile() ? readFileSync(path, "utf8") : "";
      lines.push(`${path} ${st.mode} ${st.uid}:${st.gid} ${st.nlink} ${st.size} ${st.mtimeNs} ${st.ctimeNs} ${content}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk(jail.base);
  return lines.join("\n");
}

function escapingFiles(): string[] {
  const sentinel = join(jail.outside, "sentinel");
  const names = ["../../../outside/sentinel", sentinel, climbTo(sentinel), "absout/sentinel", "abssentinel", "up/outside/sentinel", "out/sentinel", "outfile", "climb/sentinel"];
  return [...names, ...links().filter(([name]) => name !== "up").map(([name]) => `lowdir/${name}`), "lowdir/out/sentinel", "lowdir/absout/dir/inner", "lowdir/../../../../outside/sentinel"];
}

function escapingDirs(): string[] {
  return ["absout", "out", "up/outside", "../../../outside", jail.outside, climbTo(jail.outside), "climb", "lowdir/out", "lowdir/absout/dir", "lowdir/climb"];
}

test("reads through escaping paths find nothing outside the roots", () => {
  for (const path of escapingFiles()) {
    for (const call of [() => jail.fs.stat(path), () => jail.fs.open(path, O_RDONLY, 0)]) {
      try {
        call();
        throw new Error(`${path} resolved to something`);
      } catch (error) {
        if (!(error instanceof FsError)) throw error;
        expect(["ENOENT", "ELOOP"]).toContain(error.code);
      }
    }
  }
  expect(jail.fs.stat("up").st_ino).toBe(jail.fs.stat("").st_ino);
  expect(jail.fs.stat("lowdir/up").st_ino).toBe(jail.fs.stat("").st_ino);
});

test("escaping names resolve to the same names inside the union", () => {
  jail.fs.mkdir("outside", 0o755);
  writeFile(jail.fs, "outside/sentinel", "inside");
  for (const path of ["outfile", "out/sentinel", "up/outside/sentinel", "../../../outside/sentinel", "lowdir/outfile"]) {
    expect(readFile(jail.fs, path)).toBe("inside");
  }
  expect(readFileSync(join(jail.outside, "sentinel"), "utf8")).toBe("secret");
});

test("no mutation through escaping paths reaches outside the branch roots", () => {
  const before = snapshotOutside();
  const attempts = escapeAttempts(jail.fs, { paths: escapingFiles(), dirs: escapingDirs() });
  const succeeded = runEscapeAttempts(jail.fs, attempts, { replant: plant });
  expect(snapshotOutside()).toBe(before);
  expect(succeeded.length).toBeGreaterThan(0);
  // The lower branch was never written.
  expect(readFileSync(join(jail.roots[1]!, "lowdir", "file"), "utf8")).toBe("lower");
  for (const [name, target] of links()) expect(lstatSync(join(jail.roots[1]!, "lowdir", name)).isSymbolicLink() && target !== "").toBe(true);
});
