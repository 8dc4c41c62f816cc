/**
 * @module test/services/union/copy-up-crash-child — a process that copies a large lower file up through the union
 * (by opening it for writing), slowly enough to be SIGKILLed mid-copy. Arguments: upper root, lower root, path.
 */
import { LocalBackend } from "../../../services/client-cache/backend/index.ts";
import { createUnionShared, UnionFileSystem } from "../../../services/union/index.ts";

const [upperRoot, lowerRoot, path] = process.argv.slice(2);
if (upperRoot === undefined || lowerRoot === undefined || path === undefined) throw new Error("usage: copy-up-crash-child <upper> <lower> <path>");

const pause = new Int32Array(new SharedArrayBuffer(4));

/** The lower, reading each copy-up chunk only after a short pause. */
class SlowLower extends LocalBackend {
  override pread(fd: number, into: Uint8Array, offset: number): number {
    Atomics.wait(pause, 0, 0, 15);
    return super.pread(fd, into, offset);
  }
}

const union = new UnionFileSystem({ upper: new LocalBackend(upperRoot), lowers: [new SlowLower(lowerRoot)] }, createUnionShared());
process.stdout.write("copying\n");
const O_RDWR = 2;
union.close(union.open(path, O_RDWR, 0));
process.stdout.write("done\n");
