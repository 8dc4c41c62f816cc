/** @module pool/detect — find out once whether and how this host can make pools. */
import { existsSync, mkdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { errnoCode } from "./pool-error.ts";
import type { PoolSupport } from "./types.ts";

/** The controllers every pool needs. */
const NEEDED = ["cpuset", "memory"] as const;

/**
 * Probe the host: which cgroup flavour can make pools under `cgroupFs` (default /sys/fs/cgroup), or why none can.
 * Really makes and removes a probe group in each hierarchy it would use. Never throws; every failure becomes
 * `{ kind: "unavailable", reason }` with the reason naming the cause (not root, missing controller, EROFS, ...).
 */
export function detectPoolSupport(cgroupFs = "/sys/fs/cgroup"): PoolSupport {
  try {
    return detect(cgroupFs);
  } catch (error) {
    return unavailable(`probing ${cgroupFs} failed unexpectedly: ${String(error)}`);
  }
}

function detect(cgroupFs: string): PoolSupport {
  const uid = process.getuid?.();
  if (uid !== 0) return unavailable(`not root (uid ${uid ?? "unknown"}): making cgroups needs root`);
  if (!existsSync(cgroupFs)) return unavailable(`${cgroupFs} does not exist: no cgroup filesystem is mounted there`);
  if (existsSync(join(cgroupFs, "cgroup.controllers"))) return detectV2(cgroupFs);
  return detectV1(cgroupFs);
}

/** Unified-only host: the root's cgroup.controllers must offer cpuset and memory, and a probe group must be makeable. */
function detectV2(root: string): PoolSupport {
  const offered = readFileSync(join(root, "cgroup.controllers"), "utf8").trim().split(/\s+/);
  const missing = NEEDED.filter((name) => !offered.includes(name));
  if (missing.length > 0) {
    return unavailable(`cgroup v2 at ${root} lacks the ${missing.join(" and ")} controller (cgroup.controllers: "${offered.join(" ")}")`);
  }
  const failure = probe(root);
  return failure === null ? { kind: "cgroup-v2", root } : unavailable(failure);
}

/** v1 or hybrid host: separate cpuset and memory hierarchies under `cgroupFs`, each accepting a probe group. */
function detectV1(cgroupFs: string): PoolSupport {
  const cpusetRoot = join(cgroupFs, "cpuset");
  const memoryRoot = join(cgroupFs, "memory");
  const missing: string[] = [];
  if (!existsSync(join(cpusetRoot, "cpuset.cpus"))) missing.push(`cpuset (no ${cpusetRoot}/cpuset.cpus)`);
  if (!existsSync(join(memoryRoot, "memory.limit_in_bytes"))) missing.push(`memory (no ${memoryRoot}/memory.limit_in_bytes)`);
  if (missing.length > 0) {
    return unavailable(`no cgroup v2 at ${cgroupFs} and cgroup v1 controllers missing: ${missing.join(", ")}`);
  }
  const failure = probe(cpusetRoot) ?? probe(memoryRoot);
  return failure === null ? { kind: "cgroup-v1", cpusetRoot, memoryRoot } : unavailable(failure);
}

/** Make and remove a probe group under `root`; null when that works, else why not. */
function probe(root: string): string | null {
  const dir = join(root, `danaus.probe-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    mkdirSync(dir);
  } catch (error) {
    return `cannot create a cgroup under ${root}: mkdir ${dir} failed with ${errnoCode(error) ?? String(error)}`;
  }
  // A real cgroupfs fills a new directory with control files at once; an ordinary directory stays empty.
  const isCgroup = existsSync(join(dir, "cgroup.procs"));
  try {
    rmdirSync(dir);
  } catch (error) {
    return `cannot remove the probe cgroup ${dir}: rmdir failed with ${errnoCode(error) ?? String(error)}`;
  }
  return isCgroup ? null : `${root} is not a cgroup filesystem: a new directory there gets no cgroup.procs`;
}

function unavailable(reason: string): PoolSupport {
  return { kind: "unavailable", reason };
}
