/**
 * @module test/conformance — the POSIX conformance suite written once against the FileSystem interface and run
 * against every implementation (local backend, shared-memory client, union, FUSE mount through the node:fs adapter).
 */
import { describe } from "bun:test";
import { attributeCases } from "./cases/attributes.ts";
import { deepPathCases } from "./cases/deep-paths.ts";
import { directoryCases } from "./cases/directories.ts";
import { ioCases } from "./cases/io.ts";
import { linkCases } from "./cases/links.ts";
import { nameCases } from "./cases/names.ts";
import { nodeCases } from "./cases/nodes.ts";
import { openCases } from "./cases/open.ts";
import { pathCases } from "./cases/paths.ts";
import { readdirCases } from "./cases/readdir.ts";
import { renameCases } from "./cases/rename.ts";
import { statCases } from "./cases/stat.ts";
import { truncateSyncCases } from "./cases/truncate-sync.ts";
import { makeSuite, type ConformanceOptions } from "./harness.ts";

export type { ConformanceCapabilities, ConformanceInstance, ConformanceOptions } from "./harness.ts";

/**
 * Registers, under `describe(name)`, bun:test cases covering every FileSystem method with its common errno cases.
 * Each test gets its own instance from `options.newFs()` and cleans it up; cases needing a capability the
 * implementation lacks (see ConformanceCapabilities) are registered as skipped. Call it at a test file's top level.
 */
export function runConformance(name: string, options: ConformanceOptions): void {
  const suite = makeSuite(options);
  describe(name, () => {
    openCases(suite);
    ioCases(suite);
    statCases(suite);
    truncateSyncCases(suite);
    directoryCases(suite);
    nodeCases(suite);
    renameCases(suite);
    readdirCases(suite);
    linkCases(suite);
    attributeCases(suite);
    pathCases(suite);
    nameCases(suite);
    deepPathCases(suite);
  });
}
