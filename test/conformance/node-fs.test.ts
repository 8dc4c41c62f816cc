/** @module test/conformance/node-fs — the conformance suite against plain node:fs on a temp directory: checks the suite's expectations against the kernel. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runConformance } from "./index.ts";
import { NodeFsAdapter } from "./node-fs-adapter.ts";

runConformance("node:fs on a temp directory", {
  async newFs() {
    const root = mkdtempSync(join(tmpdir(), "danaus-conformance-"));
    return { fs: new NodeFsAdapter(root), cleanup: () => rmSync(root, { recursive: true, force: true }) };
  },
  capabilities: { renameFlags: false, fifoIo: true, deepPaths: false },
});
