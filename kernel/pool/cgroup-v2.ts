/** @module pool/cgroup-v2 — pools as one group per tenant in the unified (v2) hierarchy. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { makeGroup, readControl, readKeyedCounter, tryReadControl, writeControl } from "./cgroup-fs.ts";
import { formatCpuList } from "../sys/cpu-list.ts";
import type { CgroupFlavour } from "./flavour.ts";
import { checkCpusWithin } from "./spec.ts";
import type { PoolSpec } from "./types.ts";

/** The controllers a pool needs delegated to its group. */
const CONTROLLERS = ["cpuset", "memory"] as const;

/** cgroup v2: `<root>/danaus.<instance>/<tenant>` with the cpuset and memory controllers enabled down to it. */
export class CgroupV2 implements CgroupFlavour {
  readonly instanceDirs: readonly string[];
  readonly #root: string;
  readonly #instanceDir: string;

  constructor(instance: string, root: string) {
    this.#root = root;
    this.#instanceDir = join(root, `danaus.${instance}`);
    this.instanceDirs = [this.#instanceDir];
  }

  prepareInstance(tenant: string): void {
    enableControllers(tenant, this.#root);
    makeGroup(tenant, this.#instanceDir);
    enableControllers(tenant, this.#instanceDir);
  }

  configureTenant(spec: PoolSpec, tenantDirs: readonly string[]): void {
    const dir = tenantDirs[0]!;
    const allowedFile = join(this.#instanceDir, "cpuset.cpus.effective");
    checkCpusWithin(spec, readControl(spec.tenant, allowedFile), allowedFile);
    writeControl(spec.tenant, join(dir, "cpuset.cpus"), formatCpuList(spec.cpus));
    writeControl(spec.tenant, join(dir, "cpuset.mems"), readControl(spec.tenant, join(this.#instanceDir, "cpuset.mems.effective")));
    writeControl(spec.tenant, join(dir, "memory.max"), String(spec.memoryBytes));
    // Without this a pool under memory pressure would swap instead of being held to its limit.
    const swapMax = join(dir, "memory.swap.max");
    if (existsSync(swapMax)) writeControl(spec.tenant, swapMax, "0");
  }

  oomKills(tenantDirs: readonly string[]): number | null {
    return readKeyedCounter(join(tenantDirs[0]!, "memory.events"), "oom_kill");
  }

  memoryUsage(tenantDirs: readonly string[]): number | null {
    const text = tryReadControl(join(tenantDirs[0]!, "memory.current"));
    return text === null ? null : Number(text);
  }
}

/** Delegate cpuset and memory to the children of `dir` (cgroup.subtree_control), writing only what is missing. */
function enableControllers(tenant: string, dir: string): void {
  const file = join(dir, "cgroup.subtree_control");
  const enabled = readControl(tenant, file).split(" ");
  const missing = CONTROLLERS.filter((name) => !enabled.includes(name));
  if (missing.length === 0) return;
  const hint =
    " (a v2 group that holds processes cannot delegate controllers to children, and cpuset/memory must be in its" +
    " cgroup.controllers: run the supervisor where it may write this file)";
  writeControl(tenant, file, missing.map((name) => `+${name}`).join(" "), hint);
}
