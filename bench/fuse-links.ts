/**
 * @module fuse-links — the cost of node identity, part of `bun run bench fuse` (`DANAUS_BENCH_ONLY=links` runs only
 * it, without the cluster): fuse-legacy serving a local directory (so the figures are the kernel path and the node
 * table, not a backend), 1 s attribute/entry timeouts, direct I/O as tenant mounts. Two trees of 10,000 names: 10,000
 * files of one name, and 5,000 files of two names each (every second name joins its file's node). For each, on a
 * fresh mount (cold kernel caches): lstat of every name (a LOOKUP each), then open + close of every name. Then the
 * node table alone: remember 10,000 names with their file's key (node identity) and without (each name its own node,
 * as before hard links were one node).
 */
import { closeSync, linkSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FuseServer, NodeTable } from "../services/fuse-legacy/server/index.ts";
import { S_IFREG } from "../kernel/ipc/protocol/index.ts";
import { printTable } from "./stats.ts";

/** Names per tree. */
export const LINK_NAMES = 10_000;
/** Fresh-mount runs per tree; the median is reported. */
const RUNS = Number(process.env.DANAUS_BENCH_LINKS_RUNS ?? 3);
const OPENER = new URL("./fuse-links-opener.ts", import.meta.url).pathname;

/** One row: a tree and its figures (names per second, medians of the runs). */
export interface LinksRow {
  tree: string;
  statPerSec: number;
  openPerSec: number;
  runs: { statPerSec: number; openPerSec: number }[];
}

/** fuse.json's node-identity part. */
export interface LinksPart {
  when: string;
  what: string;
  names: number;
  rows: LinksRow[];
  table: { uniqueNsPerName: number; pairsNsPerName: number; withoutKeyNsPerName: number; hitNsPerName: number };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function perSecond(names: readonly string[], each: (name: string) => void): number {
  const started = performance.now();
  for (const name of names) each(name);
  return Math.round(names.length / ((performance.now() - started) / 1000));
}

/** Writes the tree into `root`: 10,000 files, or 5,000 files with a second name each; returns the names. */
function buildTree(root: string, linked: boolean): string[] {
  mkdirSync(root, { recursive: true });
  const names: string[] = [];
  for (let i = 0; names.length < LINK_NAMES; i++) {
    const name = `f${i}`;
    writeFileSync(join(root, name), "x");
    names.push(name);
    if (linked) {
      linkSync(join(root, name), join(root, `g${i}`));
      names.push(`g${i}`);
    }
  }
  return names;
}

async function measureTree(base: string, tree: string, linked: boolean): Promise<LinksRow> {
  const dir = linked ? "linked" : "plain";
  const served = join(base, dir);
  const names = buildTree(served, linked);
  const runs: LinksRow["runs"] = [];
  for (let run = 0; run < RUNS; run++) {
    const mountPoint = join(base, `mnt-${dir}-${run}`);
    mkdirSync(mountPoint);
    const server = await FuseServer.start({ mountPoint, opener: { module: OPENER, spec: { root: served } }, directIo: true, attrTimeoutMs: 1000, entryTimeoutMs: 1000 });
    try {
      const statPerSec = perSecond(names, (name) => statSync(join(mountPoint, name)));
      const openPerSec = perSecond(names, (name) => closeSync(openSync(join(mountPoint, name), "r")));
      runs.push({ statPerSec, openPerSec });
    } finally {
      await server.stop();
    }
  }
  return { tree, statPerSec: median(runs.map((r) => r.statPerSec)), openPerSec: median(runs.map((r) => r.openPerSec)), runs };
}

/**
 * The node table alone, on a table whose memory was touched before (a fresh one measures page faults): ns per
 * remember of a new name with its file's key (every file one name), with keys where half the names join a node, and
 * without a key (each name its own node); ns per remember of a name the table has (a hit). Median of 5 rounds, each
 * forgetting then remembering all, after a pass that warms up the JIT.
 */
function measureTable(): LinksPart["table"] {
  const names = Array.from({ length: LINK_NAMES }, (_, i) => `n${i}`);
  const key = (ino: number) => ({ st_dev: 1, st_ino: ino, st_mode: S_IFREG | 0o644 });
  const unique = names.map((_, i) => key(1000 + i));
  const pairs = names.map((_, i) => key(1000 + Math.floor(i / 2)));
  const table = new NodeTable(NodeTable.allocate(1 << 15));
  const nsPerName = (keys: readonly ReturnType<typeof key>[] | undefined, hit = false) => {
    const rounds: number[] = [];
    for (let round = 0; round < 6; round++) {
      const ids = names.map((name, i) => table.remember(1, name, keys?.[i]));
      const started = performance.now();
      if (hit) names.forEach((name, i) => table.remember(1, name, keys?.[i]));
      else {
        for (const id of new Set(ids)) table.forget(id, table.lookups(id));
        names.forEach((name, i) => table.remember(1, name, keys?.[i]));
      }
      rounds.push(((performance.now() - started) * 1e6) / LINK_NAMES);
      for (const id of new Set(ids)) table.forget(id, table.lookups(id));
      for (const id of new Set(names.map((name) => table.child(1, name)))) if (id !== undefined) table.forget(id, table.lookups(id));
    }
    return Math.round(median(rounds.slice(1)));
  };
  const measure = () => ({ uniqueNsPerName: nsPerName(unique), pairsNsPerName: nsPerName(pairs), withoutKeyNsPerName: nsPerName(undefined), hitNsPerName: nsPerName(unique, true) });
  // The first pass warms up the JIT for every kind; the second is reported.
  measure();
  return measure();
}

/** Runs the node-identity part; prints its tables and returns its part of fuse.json. */
export async function runLinksPart(): Promise<LinksPart> {
  const base = mkdtempSync(join(tmpdir(), "danaus-bench-links-"));
  try {
    const rows = [await measureTree(base, "10,000 files", false), await measureTree(base, "5,000 files × 2 names", true)];
    process.stdout.write(`\nnode identity: lstat, then open + close, of ${LINK_NAMES} names on a fresh fuse-legacy mount of a local directory (names/s, median of ${RUNS})\n`);
    printTable(["tree", "lstat/s", "open+close/s", "runs (lstat, open)"], rows.map((r) => [r.tree, r.statPerSec, r.openPerSec, r.runs.map((x) => `${x.statPerSec}/${x.openPerSec}`).join(" ")]));
    const table = measureTable();
    process.stdout.write(
      `node table alone, ns per new name (forget + remember; warm table): with its file's key ${table.uniqueNsPerName}, half joining a node ${table.pairsNsPerName}, without a key (name identity) ${table.withoutKeyNsPerName}; a name it has ${table.hitNsPerName}\n`,
    );
    return {
      when: new Date().toISOString(),
      what: "fuse-legacy over a local directory (directIo, 1 s timeouts), fresh mount per run: lstat of every name, then open+close of every name; and NodeTable.remember alone",
      names: LINK_NAMES,
      rows,
      table,
    };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
