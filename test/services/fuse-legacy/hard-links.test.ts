/**
 * @module test/services/fuse-legacy/hard-links — node identity follows file identity through a real FUSE mount: every
 * name of one file is one kernel inode, so link counts and attributes seen through every name are right at once after
 * a link, chmod, write, truncate, unlink or rename through any other name, though the kernel caches attributes and
 * entries for a second (as real mounts do). Differential: each step runs on the mount and on a host directory, and
 * every name's lstat is compared (mount vs host: outcome, type, mode, size, nlink, which names share an inode; mount
 * vs the served directory: the same plus st_ino and mtime to the nanosecond). Skipped with a printed reason when not
 * root or without /dev/fuse (failed under CI=true).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as nodeFs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FuseServer } from "../../../services/fuse-legacy/server/index.ts";
import { mountTestsSkipped, serveLocalBackend, stopAndRemove } from "./fixtures/mount-support.ts";

const skipped = mountTestsSkipped("hard-links.test.ts");
const base = nodeFs.mkdtempSync(join(tmpdir(), "danaus-fuse-links-"));
const servers: { server?: FuseServer; mountPoint: string }[] = [];
let counter = 0;

/** What one name's lstat shows, for comparing (ino and mtime are compared only against the served directory). */
interface Seen {
  readonly error?: string;
  readonly type?: number;
  readonly mode?: number;
  readonly size?: bigint;
  readonly nlink?: bigint;
  readonly ino?: bigint;
  readonly mtimeNs?: bigint;
  readonly ctimeNs?: bigint;
}

function see(path: string): Seen {
  try {
    const st = nodeFs.lstatSync(path, { bigint: true });
    return { type: Number(st.mode) & 0o170000, mode: Number(st.mode) & 0o7777, size: st.size, nlink: st.nlink, ino: st.ino, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
  } catch (error) {
    return { error: (error as { code?: string }).code };
  }
}

function outcome(call: () => unknown): string {
  try {
    call();
    return "ok";
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** One tree on the mount, its served directory, and a host directory the same steps run on. */
interface Trees {
  readonly mount: string;
  readonly served: string;
  readonly host: string;
}

function freshTrees(mountPoint: string, served: string): Trees {
  const name = `t${++counter}`;
  const host = join(base, "host", name);
  nodeFs.mkdirSync(host, { recursive: true });
  nodeFs.mkdirSync(join(mountPoint, name));
  for (const dir of ["d0", "d1"]) {
    nodeFs.mkdirSync(join(mountPoint, name, dir));
    nodeFs.mkdirSync(join(host, dir));
  }
  return { mount: join(mountPoint, name), served: join(served, name), host };
}

/** The divergences between the three trees over `names`, as readable lines (none when all agree). */
function divergences(trees: Trees, names: readonly string[]): string[] {
  const lines: string[] = [];
  const mountInos = new Map<bigint, string[]>();
  const hostInos = new Map<bigint, string[]>();
  for (const name of names) {
    const mount = see(join(trees.mount, name));
    const host = see(join(trees.host, name));
    const served = see(join(trees.served, name));
    const visible = ({ ino: _ino, mtimeNs: _mtime, ctimeNs: _ctime, ...rest }: Seen) => rest;
    if (JSON.stringify(visible(mount), replacer) !== JSON.stringify(visible(host), replacer)) lines.push(`${name}: mount ${show(mount)} host ${show(host)}`);
    const { ctimeNs: _m, ...mountExact } = mount;
    const { ctimeNs: _s, ...servedExact } = served;
    if (JSON.stringify(mountExact, replacer) !== JSON.stringify(servedExact, replacer)) lines.push(`${name}: mount ${show(mount)} served ${show(served)}`);
    if (mount.ino !== undefined) mountInos.set(mount.ino, [...(mountInos.get(mount.ino) ?? []), name]);
    if (host.ino !== undefined) hostInos.set(host.ino, [...(hostInos.get(host.ino) ?? []), name]);
  }
  const groups = (inos: Map<bigint, string[]>) => [...inos.values()].map((group) => group.join("=")).sort().join(" ");
  if (groups(mountInos) !== groups(hostInos)) lines.push(`shared inodes: mount ${groups(mountInos)} host ${groups(hostInos)}`);
  return lines;
}

function replacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

function show(seen: Seen): string {
  return JSON.stringify(seen, replacer);
}

/** Runs `step` on the mount and on the host directory; both must end the same way. */
function both(trees: Trees, what: string, step: (root: string) => void): void {
  const onMount = outcome(() => step(trees.mount));
  const onHost = outcome(() => step(trees.host));
  expect(`${what}: ${onMount}`).toBe(`${what}: ${onHost}`);
}

/** lstat of every name through the mount, so the kernel holds (and caches) a node and attributes for each. */
function warm(trees: Trees, names: readonly string[]): void {
  for (const name of names) see(join(trees.mount, name));
}

function appendBytes(path: string, bytes: number): void {
  const fd = nodeFs.openSync(path, "a");
  try {
    nodeFs.writeSync(fd, Buffer.alloc(bytes, 0x61));
  } finally {
    nodeFs.closeSync(fd);
  }
}

afterAll(async () => {
  for (const { server, mountPoint } of servers) await stopAndRemove(server, mountPoint, join(base, "x-none"));
  nodeFs.rmSync(base, { recursive: true, force: true });
});

for (const directIo of [false, true]) {
  describe.skipIf(skipped !== undefined)(`hard links through a FUSE mount (directIo ${directIo}, attribute and entry timeouts 1 s)`, () => {
    const mountPoint = join(base, `mnt-${directIo}`);
    const served = join(base, `served-${directIo}`);
    const entry: { server?: FuseServer; mountPoint: string } = { mountPoint };
    servers.push(entry);

    beforeAll(async () => {
      nodeFs.mkdirSync(mountPoint, { recursive: true });
      entry.server = await serveLocalBackend(mountPoint, served, { directIo, attrTimeoutMs: 1000, entryTimeoutMs: 1000 });
    });

    test("every name shows the change made through another at once: link, chmod, write, truncate, utimes, unlink, rename over a link", () => {
      const trees = freshTrees(mountPoint, served);
      const names = ["a", "b", "d1/c", "o"];
      const check = (what: string, step: (root: string) => void) => {
        warm(trees, names);
        both(trees, what, step);
        expect([what, ...divergences(trees, names)]).toEqual([what]);
      };
      check("create a", (root) => nodeFs.writeFileSync(join(root, "a"), "hello"));
      check("link a b", (root) => nodeFs.linkSync(join(root, "a"), join(root, "b")));
      expect(see(join(trees.mount, "a")).nlink).toBe(2n);
      expect(see(join(trees.mount, "a")).ino).toBe(see(join(trees.mount, "b")).ino!);
      check("link b d1/c", (root) => nodeFs.linkSync(join(root, "b"), join(root, "d1/c")));
      check("chmod d1/c", (root) => nodeFs.chmodSync(join(root, "d1/c"), 0o600));
      check("write through b", (root) => appendBytes(join(root, "b"), 100));
      check("truncate d1/c", (root) => nodeFs.truncateSync(join(root, "d1/c"), 3));
      check("utimes a", (root) => nodeFs.utimesSync(join(root, "a"), 1000, 2000));
      check("unlink a", (root) => nodeFs.unlinkSync(join(root, "a")));
      expect(see(join(trees.mount, "b")).nlink).toBe(2n);
      check("create o", (root) => nodeFs.writeFileSync(join(root, "o"), "other"));
      check("rename o over b", (root) => nodeFs.renameSync(join(root, "o"), join(root, "b")));
      expect(see(join(trees.mount, "d1/c")).nlink).toBe(1n);
      check("rename b over d1/c", (root) => nodeFs.renameSync(join(root, "b"), join(root, "d1/c")));
      check("link d1/c a", (root) => nodeFs.linkSync(join(root, "d1/c"), join(root, "a")));
      check("rename a onto its own other name d1/c", (root) => nodeFs.renameSync(join(root, "a"), join(root, "d1/c")));
      check("write through a", (root) => appendBytes(join(root, "a"), 7));
    });

    test("an open file stays the same file through its other names after its first name is unlinked", () => {
      const trees = freshTrees(mountPoint, served);
      const path = join(trees.mount, "f");
      nodeFs.writeFileSync(path, "12345");
      nodeFs.linkSync(path, join(trees.mount, "g"));
      const fd = nodeFs.openSync(path, "r+");
      try {
        nodeFs.unlinkSync(path);
        expect(nodeFs.fstatSync(fd).nlink).toBe(1);
        nodeFs.writeSync(fd, "abcdefgh", 0);
        expect(nodeFs.readFileSync(join(trees.mount, "g"), "utf8")).toBe("abcdefgh");
        expect(nodeFs.statSync(join(trees.mount, "g")).size).toBe(8);
        nodeFs.unlinkSync(join(trees.mount, "g"));
        expect(nodeFs.fstatSync(fd).nlink).toBe(0);
        expect(nodeFs.fstatSync(fd).size).toBe(8);
      } finally {
        nodeFs.closeSync(fd);
      }
    });

    test("random links, unlinks, renames, chmods, writes and truncates over several seeds: 0 divergences", () => {
      const names = ["a", "b", "c", "d0/a", "d0/b", "d1/a", "d1/c"];
      for (const seed of [1, 2, 3, 4]) {
        const trees = freshTrees(mountPoint, served);
        let state = seed * 7919;
        const random = (n: number) => {
          state = (Math.imul(state, 1103515245) + 12345) >>> 0;
          return (state >>> 8) % n;
        };
        const pick = () => names[random(names.length)]!;
        const found: string[] = [];
        for (let step = 0; step < 120; step++) {
          const [one, two] = [pick(), pick()];
          const op = random(8);
          const steps: [string, (root: string) => void][] = [
            [`create ${one}`, (root) => nodeFs.writeFileSync(join(root, one), "x".repeat(random(50)), { flag: "wx" })],
            [`link ${one} ${two}`, (root) => nodeFs.linkSync(join(root, one), join(root, two))],
            [`link ${one} ${two}`, (root) => nodeFs.linkSync(join(root, one), join(root, two))],
            [`unlink ${one}`, (root) => nodeFs.unlinkSync(join(root, one))],
            [`rename ${one} ${two}`, (root) => nodeFs.renameSync(join(root, one), join(root, two))],
            [`chmod ${one}`, (root) => nodeFs.chmodSync(join(root, one), 0o400 + random(0o377))],
            [`append ${one}`, (root) => appendBytes(join(root, one), 1 + random(30))],
            [`truncate ${one}`, (root) => nodeFs.truncateSync(join(root, one), random(40))],
          ];
          const [what, run] = steps[op]!;
          // The random draws inside a step must be the same for both trees.
          const saved = state;
          warm(trees, names);
          const onMount = outcome(() => run(trees.mount));
          state = saved;
          const onHost = outcome(() => run(trees.host));
          if (onMount !== onHost) found.push(`seed ${seed} step ${step} ${what}: mount ${onMount} host ${onHost}`);
          for (const line of divergences(trees, names)) found.push(`seed ${seed} step ${step} after ${what}: ${line}`);
        }
        for (const name of names) nodeFs.rmSync(join(trees.mount, name), { force: true });
        expect(found).toEqual([]);
      }
    });
  });
}
