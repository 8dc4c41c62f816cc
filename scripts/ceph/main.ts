/**
 * @module scripts/ceph/main — `bun run ceph up|down|status|packages [--dir D] [--objectstore bluestore|memstore] [--port N]
 * [--mgr] [--purge]`. Prints each phase with its duration; the last line of `up` is the path of ceph.conf.
 */
import { parseArgs } from "node:util";
import { CEPH_PACKAGES, DEFAULT_CLUSTER_DIR, down, ensurePackages, OBJECTSTORES, PEER_PACKAGES, status, up, type Objectstore } from "./index.ts";

const USAGE = `usage: bun run ceph up|down|status|packages [options]
  packages               install the Ceph packages, the peers (fuse3, fio, unionfs-fuse, lighttpd) and the programs the tests run (gcc, python3, sqlite3, rocksdb-tools) if missing (root)
  --dir D                cluster directory (default ${DEFAULT_CLUSTER_DIR})
  --objectstore S        bluestore (default: a 10 GiB sparse file, bounded memory) or memstore (faster start, never returns memory)
  --port N               monitor msgr2 port (default 3300; msgr1 on 6789, or N+1)
  --mgr                  also start a manager (not needed for file I/O)
  --purge                with down: delete the cluster directory too`;

function fail(message: string): never {
  process.stderr.write(`ceph: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        dir: { type: "string", default: DEFAULT_CLUSTER_DIR },
        objectstore: { type: "string", default: "bluestore" },
        port: { type: "string", default: "3300" },
        mgr: { type: "boolean", default: false },
        purge: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();
if (values.help) {
  process.stdout.write(USAGE + "\n");
  process.exit(0);
}
const command = positionals[0];
if (positionals.length !== 1 || !["up", "down", "status", "packages"].includes(command ?? "")) fail("expected exactly one command: up, down, status or packages");
if (!(OBJECTSTORES as readonly string[]).includes(values.objectstore)) fail(`--objectstore must be one of ${OBJECTSTORES.join(", ")}, got ${values.objectstore}`);
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1024 || port > 65534) fail(`--port must be an integer in 1024..65534, got ${values.port}`);

const report = (phase: string, ms: number, detail?: string) =>
  process.stdout.write(`${phase.padEnd(22)} ${ms.toFixed(0).padStart(6)} ms${detail ? `  ${detail}` : ""}\n`);

try {
  const started = performance.now();
  if (command === "up") {
    const conf = await up({ dir: values.dir, objectstore: values.objectstore as Objectstore, monPort: port, mgr: values.mgr, report });
    report("total", performance.now() - started, `objectstore ${values.objectstore}`);
    process.stdout.write(`${conf}\n`);
  } else if (command === "packages") {
    const installed = ensurePackages({ ...CEPH_PACKAGES, ...PEER_PACKAGES });
    report("packages", performance.now() - started, installed.length ? `installed ${installed.join(" ")}` : "all present");
  } else if (command === "down") {
    await down(values.dir, values.purge, report);
    report("total", performance.now() - started, values.purge ? "stopped and purged" : "stopped");
  } else {
    const s = status(values.dir);
    process.stdout.write(`dir        ${s.dir}\nconf       ${s.conf ?? "(none)"}\nobjectstore ${s.objectstore ?? "(not created)"}\n`);
    for (const d of s.daemons) process.stdout.write(`${d.name.padEnd(10)} ${d.pid === null ? "stopped" : `running, pid ${d.pid}`}\n`);
    process.stdout.write(`cephfs     ${s.usable ? "usable" : "not usable"}\n`);
    process.exit(s.usable ? 0 : 1);
  }
} catch (error) {
  process.stderr.write(`ceph: ${(error as Error).message}\n`);
  process.exit(1);
}
