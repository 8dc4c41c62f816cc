/**
 * @module scripts/rootfs/main — `bun run rootfs <dir> [--with PACKAGE]... [--program NAME]...`: builds a minimal root
 * tree from this host's binaries (see index.ts); prints what it copied. Exit 0 on success, 1 when the build fails,
 * 2 on a usage error.
 */
import { parseArgs } from "node:util";
import { buildRootfs, DEFAULT_PROGRAMS, LddError, RootfsError } from "./index.ts";

const USAGE = `usage: bun run rootfs <dir> [--with PACKAGE]... [--program NAME]...
  builds a root tree in <dir> (empty or missing) from this host's binaries: /bin/sh, ${DEFAULT_PROGRAMS.join(", ")},
  each with its shared libraries and the dynamic loader, and minimal /etc files
  --with PACKAGE     also every file of this installed Debian package (e.g. lighttpd), with its libraries
  --program NAME     also this program (a name in PATH or an absolute path)
then: bun run danaus image import <tenant> <image> <dir>`;

function fail(message: string): never {
  process.stderr.write(`rootfs: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { with: { type: "string", multiple: true, default: [] }, program: { type: "string", multiple: true, default: [] }, help: { type: "boolean", default: false } },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();
if (values.help) {
  process.stdout.write(USAGE + "\n");
  process.exit(0);
}
if (positionals.length !== 1) fail("expected exactly one target directory");

try {
  const result = buildRootfs(positionals[0]!, { packages: values.with, programs: values.program });
  process.stdout.write(`built ${result.dir}: ${result.files} files and symlinks, ${(result.bytes / (1 << 20)).toFixed(1)} MiB, ${result.libraries.length} libraries\n`);
} catch (error) {
  if (!(error instanceof RootfsError || error instanceof LddError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
