/** @module test/services/union/conformance — the POSIX conformance suite against the union over LocalBackend branches. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBackend } from "../../../services/client-cache/backend/index.ts";
import { createUnionShared, UnionFileSystem } from "../../../services/union/index.ts";
import { runConformance, type ConformanceCapabilities } from "../../conformance/index.ts";

const capabilities: ConformanceCapabilities = { renameFlags: false, renameNoreplace: true, chown: true, hardLinks: true, largeFiles: true, symlinks: true, fifoIo: true };

runConformance("union, upper only", {
  async newFs() {
    const base = mkdtempSync(join(tmpdir(), "danaus-union-"));
    const upper = new LocalBackend(join(base, "upper"));
    const fs = new UnionFileSystem({ upper, lowers: [] }, createUnionShared({ maxDirHandles: 64 }));
    return {
      fs,
      cleanup() {
        upper.dispose();
        rmSync(base, { recursive: true, force: true });
      },
    };
  },
  capabilities,
});

runConformance("union, upper over lowers", {
  async newFs() {
    const base = mkdtempSync(join(tmpdir(), "danaus-union-"));
    // Unrelated lower content, all whited out or hidden so the fresh union looks empty; the lowers still merge.
    const lowerA = join(base, "lower-a");
    const lowerB = join(base, "lower-b");
    const upperDir = join(base, "upper");
    mkdirSync(join(lowerA, "hidden-dir"), { recursive: true });
    writeFileSync(join(lowerA, "hidden-file"), "a");
    mkdirSync(join(lowerB, "deeper", "x"), { recursive: true });
    writeFileSync(join(lowerB, "deeper", "x", "file"), "b");
    writeFileSync(join(lowerB, "hidden-file"), "b below");
    mkdirSync(upperDir, { recursive: true });
    for (const name of ["hidden-dir", "hidden-file", "deeper"]) writeFileSync(join(upperDir, `.wh.${name}`), "");
    const upper = new LocalBackend(upperDir);
    const lowers = [new LocalBackend(lowerA), new LocalBackend(lowerB)];
    const fs = new UnionFileSystem({ upper, lowers }, createUnionShared({ maxDirHandles: 64 }));
    return {
      fs,
      cleanup() {
        upper.dispose();
        for (const lower of lowers) lower.dispose();
        rmSync(base, { recursive: true, force: true });
      },
    };
  },
  capabilities,
});
