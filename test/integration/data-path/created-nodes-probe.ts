/**
 * @module test/integration/data-path/created-nodes-probe — what created-nodes.test.ts runs through the shared-memory
 * client, as its Python probe runs through the kernel: argv socket, directory (a client path), the operations (JSON).
 * Started under the umask being tested; prints the same JSON as the Python probe: each operation's outcome ("ok" or
 * the errno name) and each name's final lstat (mode, uid, gid, rdev) or errno name.
 */
import { constants } from "node:fs";
import { DanausClient } from "../../../shims/ts/client.ts";
import { outcome } from "../../services/fuse-legacy/fixtures/link-differential.ts";

/** One operation of the probe (the Python probe reads the same list). */
export type ProbeOp =
  | { readonly op: "open" | "mkdir" | "chmod"; readonly name: string; readonly mode: number }
  | { readonly op: "mknod"; readonly name: string; readonly mode: number; readonly rdev: number }
  | { readonly op: "symlink"; readonly name: string; readonly target: string }
  | { readonly op: "sh"; readonly name: string; readonly argv: readonly string[] };

/** What a probe prints. */
export interface ProbeOutput {
  readonly results: string[];
  readonly stats: Record<string, [number, number, number, number] | string>;
}

if (import.meta.main) {
  const [socket, dir, json] = process.argv.slice(2);
  const ops = JSON.parse(json!) as ProbeOp[];
  const client = DanausClient.connect({ socket: socket! });
  const at = (name: string) => `${dir}/${name}`;
  const results = ops.map((op) =>
    outcome(() => {
      switch (op.op) {
        case "open":
          return client.close(client.open(at(op.name), constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, op.mode));
        case "mkdir":
          return client.mkdir(at(op.name), op.mode);
        case "chmod":
          return client.chmod(at(op.name), op.mode);
        case "mknod":
          return client.mknod(at(op.name), op.mode, op.rdev);
        case "symlink":
          return client.symlink(op.target, at(op.name));
        case "sh":
          throw new Error(`the client probe runs no programs (${op.argv.join(" ")})`);
      }
    }),
  );
  const stats: ProbeOutput["stats"] = {};
  for (const { name } of ops) {
    try {
      const st = client.lstat(at(name));
      stats[name] = [st.st_mode, st.st_uid, st.st_gid, st.st_rdev];
    } catch (error) {
      stats[name] = (error as { code?: string }).code ?? String(error);
    }
  }
  client.disconnect();
  process.stdout.write(JSON.stringify({ results, stats } satisfies ProbeOutput));
}
