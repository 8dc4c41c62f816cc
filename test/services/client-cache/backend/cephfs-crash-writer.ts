/**
 * @module test/services/client-cache/backend/cephfs-crash-writer — a child process for the durability test: mounts
 * CephFS with the given client options, writes a known pattern through the cephfs backend, reports its client id
 * on stdout and then waits to be SIGKILLed without closing anything.
 *
 * argv: <ceph.conf> <sub-root> <file> <bytes> <options as JSON> <"fsync" to fsync before reporting, or "none">
 */
import { CephBackend, CephMount } from "../../../../services/client-cache/backend/cephfs/index.ts";

/** The byte at `offset` of the pattern the writer writes (and the test expects). */
export function patternByte(offset: number): number {
  return (offset * 2654435761 + (offset >>> 13)) >>> 24;
}

if (import.meta.main) {
  const [conf, subRoot, file, bytes, options, sync] = process.argv.slice(2);
  const mount = CephMount.open({ conf: conf!, clientId: "admin", options: JSON.parse(options!) as Record<string, string> });
  const fs = new CephBackend(mount.shared, subRoot!);
  const data = new Uint8Array(Number(bytes));
  for (let i = 0; i < data.length; i++) data[i] = patternByte(i);
  const fd = fs.open(file!, 0o1 | 0o100 | 0o1000, 0o644);
  const written = fs.pwrite(fd, data, 0);
  if (sync === "fsync") fs.fsync(fd);
  process.stdout.write(`${JSON.stringify({ instanceId: mount.instanceId, written })}\n`);
  // Keep the process (and its unflushed client state) alive until the test kills it.
  setInterval(() => undefined, 1 << 30);
}
