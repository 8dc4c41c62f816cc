/**
 * @module test/services/union/rename-dir-crash-child — a process that renames a lower directory through the union
 * (renameDir = "copy-up") and stops for good at a chosen point, printing "stuck", so that the test can SIGKILL it
 * there. Arguments: upper root, lower root, from, to, stop point: `read:<name>` (while copying the lower file
 * `<name>` up) or `rename` (at the final rename in the upper, after the whole tree is copied up and whited out), or
 * `none` (finish).
 */
import { LocalBackend } from "../../../services/client-cache/backend/index.ts";
import { createUnionShared, UnionFileSystem } from "../../../services/union/index.ts";

const [upperRoot, lowerRoot, from, to, stop] = process.argv.slice(2);
if (upperRoot === undefined || lowerRoot === undefined || from === undefined || to === undefined || stop === undefined) {
  throw new Error("usage: rename-dir-crash-child <upper> <lower> <from> <to> <read:name|rename|none>");
}

/** Blocks this process for good after telling the test where it is. */
function stuck(): never {
  process.stdout.write("stuck\n");
  const forever = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(forever, 0, 0);
}

/** The lower, stopping at the first read of the file named in `read:<name>`. */
class StoppingLower extends LocalBackend {
  private readonly paths = new Map<number, string>();
  override open(path: string, flags: number, mode: number): number {
    const fd = super.open(path, flags, mode);
    this.paths.set(fd, path);
    return fd;
  }
  override pread(fd: number, into: Uint8Array, offset: number): number {
    if (stop === `read:${this.paths.get(fd)?.split("/").pop()}`) stuck();
    return super.pread(fd, into, offset);
  }
}

/** The upper, stopping at the rename that moves `from` to `to`. */
class StoppingUpper extends LocalBackend {
  override rename(source: string, target: string, flags: number): void {
    if (stop === "rename" && source === from && target === to) stuck();
    super.rename(source, target, flags);
  }
}

const union = new UnionFileSystem({ upper: new StoppingUpper(upperRoot), lowers: [new StoppingLower(lowerRoot)] }, createUnionShared());
union.rename(from, to, 0);
process.stdout.write("done\n");
