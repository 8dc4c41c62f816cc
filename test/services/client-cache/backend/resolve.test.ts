/**
 * @module test/services/client-cache/backend/resolve — the local backend's lookups of paths longer than one syscall
 * argument: cut into pieces, each opened from the directory the previous one reached, or walked one name at a time
 * when a later piece climbs; never leaving the root — ".." runs and symlinks placed on either side of a cut, at every
 * offset around it, resolve as in one argument and reach nothing outside.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend } from "../../../../services/client-cache/backend/index.ts";
import { pathPieces } from "../../../../services/client-cache/backend/resolve.ts";
import { DANAUS_PATH_MAX, FsError, PATH_MAX } from "../../../../kernel/ipc/protocol/index.ts";
import { escapeAttempts, runEscapeAttempts } from "../../../conformance/escape-attempts.ts";
import { expectErrno, readFile, writeFile } from "../../../conformance/harness.ts";

describe("pathPieces", () => {
  test("a path of PATH_MAX bytes or more is cut at slashes into pieces shorter than PATH_MAX", () => {
    const path = `/${Array.from({ length: 80 }, (_, i) => `${i}`.padStart(150, "n")).join("/")}`;
    const pieces = pathPieces(path, "stat");
    expect(pieces.length).toBe(3);
    for (const piece of pieces) expect(piece.length).toBeLessThan(PATH_MAX);
    expect(pieces.join("/")).toBe(path);
  });

  test("slashes at a cut are dropped, trailing ones leave \".\", a single name too long for a piece: ENAMETOOLONG", () => {
    const head = "a/".repeat(2047);
    expect(pathPieces(`${head}a//b`, "stat")).toEqual([`${head}a`, "b"]);
    expect(pathPieces(`${head}b/`, "stat")).toEqual([`${head}b`, "."]);
    expectErrno("ENAMETOOLONG", () => pathPieces(`/${"x".repeat(PATH_MAX)}`, "stat"));
  });
});

/**
 * A temp dir `base` holding `outside/` (never to be touched) and the served root three levels down, with a chain of
 * 100-byte directories in the root about PATH_MAX deep, so that a path continuing below it is cut near its end.
 */
interface Jail {
  base: string;
  outside: string;
  fs: LocalBackend;
  /** The chain's path in the root, and how many directories it has. */
  chain: string;
  depth: number;
}

let jail: Jail;

beforeEach(() => {
  const base = mkdtempSync(join(tmpdir(), "danaus-pieces-"));
  const outside = join(base, "outside");
  mkdirSync(outside);
  writeFileSync(join(outside, "sentinel"), "secret");
  const fs = new LocalBackend(join(base, "jail", "deep", "root"));
  const names = Array.from({ length: 40 }, (_, i) => `${i}`.padStart(100, "c"));
  let chain = "";
  for (const name of names) {
    chain = chain === "" ? name : `${chain}/${name}`;
    fs.mkdir(chain, 0o755);
  }
  fs.mkdir(`${chain}/sub`, 0o755);
  writeFile(fs, `${chain}/sub/f`, "below");
  writeFile(fs, `${chain}/f`, "bottom");
  jail = { base, outside, fs, chain, depth: names.length };
  plantSymlinks();
});

afterEach(() => {
  jail.fs.dispose();
  rmSync(jail.base, { recursive: true, force: true });
});

/** Climbs from the chain's bottom past the root's three host levels to `base`. */
function climb(): string {
  return "../".repeat(jail.depth + 3);
}

/** The escaping (and one staying) symlinks at the chain's bottom; planted again where an attempt removed one. */
function plantSymlinks(): void {
  const links: [string, string][] = [
    ["up", climb().slice(0, -1)],
    ["out", `${climb()}outside`],
    ["outfile", `${climb()}outside/sentinel`],
    ["absout", jail.outside],
    ["abssentinel", join(jail.outside, "sentinel")],
    ["rel", "sub"],
    ["abschain", `/${jail.chain}/sub`],
    ["toroot", "/"],
    ["loop", "loop"],
  ];
  for (const [name, target] of links) {
    try {
      jail.fs.lstat(`${jail.chain}/${name}`);
    } catch {
      jail.fs.symlink(target, `${jail.chain}/${name}`);
    }
  }
}

/** The chain's bottom, then `shift` "./" components, so that the cut falls at another place in what follows. */
function below(shift: number, rest: string): string {
  return `${jail.chain}/${"./".repeat(shift)}${rest}`;
}

/** Shifts that move the cut through the first ~200 bytes after the chain, byte by byte (two bytes a shift). */
const SHIFTS = Array.from({ length: 100 }, (_, i) => i);

/** Everything observable about `base` outside the root: names, content, modes, times. */
function snapshotOutside(): string {
  const lines: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (name === "jail") continue;
      const st = lstatSync(path, { bigint: true });
      lines.push(`${path} ${st.mode} ${st.nlink} ${st.size} ${st.mtimeNs} ${st.ctimeNs} ${st.isFile() ? readFileSync(path, "utf8") : ""}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk(jail.base);
  return lines.join("\n");
}

/** Whether a piece after the first of `path` (symlink-free) climbs above the directory it starts from. */
function climbsAbovePiece(path: string): boolean {
  return pathPieces(path, "stat").slice(1).some((piece) => {
    let depth = 0;
    for (const part of piece.split("/")) {
      if (part === "..") depth--;
      else if (part !== "" && part !== ".") depth++;
      if (depth < 0) return true;
    }
    return false;
  });
}

describe("local backend: paths longer than one syscall argument", () => {
  test("the chain reaches past the cut: names, \".\" and a symlink that stays below resolve as in one argument", () => {
    const { fs } = jail;
    expect(SHIFTS.filter((shift) => below(shift, "f").length >= PATH_MAX).length).toBeGreaterThan(50);
    for (const shift of SHIFTS) {
      expect(readFile(fs, below(shift, "f"))).toBe("bottom");
      expect(readFile(fs, below(shift, "sub/./f"))).toBe("below");
      expect(readFile(fs, below(shift, "rel/f"))).toBe("below");
      fs.mkdir(below(shift, "made"), 0o700);
      expect(fs.stat(below(shift, "made/")).st_mode & 0o777).toBe(0o700);
      fs.rename(below(shift, "made"), below(shift, "sub/moved"), 0);
      fs.rmdir(below(shift, "sub/moved"));
    }
  });

  test("\"..\" and climbing or absolute symlinks after the cut resolve as in one argument, inside the root", () => {
    const { fs, chain } = jail;
    const last = chain.slice(chain.lastIndexOf("/") + 1);
    let walked = 0;
    for (const shift of SHIFTS) {
      walked += Number(climbsAbovePiece(below(shift, "sub/../f"))) + Number(climbsAbovePiece(below(shift, `../${last}/sub/f`)));
      expect(readFile(fs, below(shift, "sub/../f"))).toBe("bottom");
      expect(readFile(fs, below(shift, `../${last}/sub/f`))).toBe("below");
      expect(readFile(fs, below(shift, "abschain/f"))).toBe("below");
      expect(readFile(fs, below(shift, "abschain/../f"))).toBe("bottom");
      expect(fs.stat(below(shift, "toroot")).st_ino).toBe(fs.stat("").st_ino);
      expect(readFile(fs, below(shift, `toroot/${chain}/f`))).toBe("bottom");
      expect(readFile(fs, below(shift, `${climb()}${chain}/sub/f`))).toBe("below");
      expectErrno("ELOOP", () => fs.stat(below(shift, "loop/x")));
      expectErrno("ELOOP", () => fs.stat(below(shift, "loop")));
      expect(fs.lstat(below(shift, "loop")).st_mode & 0o170000).toBe(0o120000);
      expectErrno("ENOTDIR", () => fs.stat(below(shift, "f/../f")));
      expectErrno("ENOENT", () => fs.stat(below(shift, "missing/../f")));
    }
    // Many of these cut a ".." from the directory it climbs out of, so they were walked one name at a time.
    expect(walked).toBeGreaterThan(50);
  });

  test("escaping names after the cut reach the same names inside the root", () => {
    const { fs, chain } = jail;
    fs.mkdir("outside", 0o755);
    writeFile(fs, "outside/sentinel", "inside sentinel");
    for (const shift of SHIFTS) {
      for (const rest of [`${climb()}outside/sentinel`, "up/outside/sentinel", "out/sentinel", "outfile", `${"../".repeat(200)}outside/sentinel`]) {
        expect(readFile(fs, below(shift, rest))).toBe("inside sentinel");
      }
    }
    writeFile(fs, below(7, `${climb()}outside/made`), "made");
    expect(readFile(fs, "outside/made")).toBe("made");
    expect(chain.length).toBeLessThan(PATH_MAX);
  });

  test("reads through \"..\" runs and escaping symlinks on either side of the cut find nothing outside the root", () => {
    const { fs } = jail;
    for (const shift of SHIFTS) {
      for (const rest of [`${climb()}outside/sentinel`, "up/outside/sentinel", "out/sentinel", "outfile", "absout/sentinel", "abssentinel"]) {
        const path = below(shift, rest);
        try {
          fs.stat(path);
          throw new Error(`${rest} after ${shift} shifts resolved to something`);
        } catch (error) {
          if (!(error instanceof FsError)) throw error;
          expect(error.code).toBe("ENOENT");
        }
      }
    }
  });

  test("no mutation through \"..\" runs or escaping symlinks on either side of the cut reaches outside the root", () => {
    const { fs } = jail;
    const before = snapshotOutside();
    const paths: string[] = [];
    const dirs: string[] = [];
    for (const shift of SHIFTS.filter((shift) => shift % 5 === 0)) {
      paths.push(below(shift, `${climb()}outside/sentinel`), below(shift, "up/outside/sentinel"), below(shift, "out/sentinel"), below(shift, "outfile"));
      paths.push(below(shift, "absout/sentinel"), below(shift, "abssentinel"));
      dirs.push(below(shift, `${climb()}outside`), below(shift, "out"), below(shift, "absout"), below(shift, "up/outside"));
    }
    runEscapeAttempts(fs, escapeAttempts(fs, { paths, dirs, renameFlags: true }), { replant: plantSymlinks });
    expect(snapshotOutside()).toBe(before);
    expect(readFileSync(join(jail.outside, "sentinel"), "utf8")).toBe("secret");
  });

  test("no bound on a path's length: past DANAUS_PATH_MAX, a missing name answers ENOENT as at any depth", () => {
    const path = below(0, "x/".repeat(DANAUS_PATH_MAX / 2));
    expect(path.length).toBeGreaterThan(DANAUS_PATH_MAX);
    expectErrno("ENOENT", () => jail.fs.stat(path));
    expectErrno("ENOENT", () => jail.fs.mkdir(path, 0o755));
    expectErrno("ENOENT", () => jail.fs.unlink(path));
  });
});
