/** @module pool/cgroup-v1 — pools as a cpuset group plus a memory group in the separate v1 hierarchies. */
import { join } from "node:path";
import { makeGroup, readControl, readKeyedCounter, tryReadControl, writeControl } from "./cgroup-fs.ts";
import { formatCpuList } from "../sys/cpu-list.ts";
import type { CgroupFlavour } from "./flavour.ts";
import { checkCpusWithin } from "./spec.ts";
import type { PoolSpec } from "./types.ts";

/** cgroup v1: `<cpusetRoot>/danaus.<instance>/<tenant>` pins cores, `<memoryRoot>/danaus.<instance>/<tenant>` caps memory. */
export class CgroupV1 implements CgroupFlavour {
  readonly instanceDirs: readonly string[];
  readonly #cpusetDir: string;

  constructor(instance: string, cpusetRoot: string, memoryRoot: string) {
    this.#cpusetDir = join(cpusetRoot, `danaus.${instance}`);
    this.instanceDirs = [this.#cpusetDir, join(memoryRoot, `danaus.${instance}`)];
  }

  prepareInstance(tenant: string): void {
    for (const dir of this.instanceDirs) makeGroup(tenant, dir);
    // A new v1 cpuset starts with no cpus and no mems (unless cgroup.clone_children), and children can only be given
    // what their parent has: hand the instance directory everything its own parent has.
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      const own = join(this.#cpusetDir, file);
      if (readControl(tenant, own) === "") writeControl(tenant, own, readControl(tenant, join(this.#cpusetDir, "..", file)));
    }
  }

  configureTenant(spec: PoolSpec, tenantDirs: readonly string[]): void {
    const [cpusetDir, memoryDir] = tenantDirs as [string, string];
    const allowedFile = join(this.#cpusetDir, "cpuset.cpus");
    checkCpusWithin(spec, readControl(spec.tenant, allowedFile), allowedFile);
    writeControl(spec.tenant, join(cpusetDir, "cpuset.cpus"), formatCpuList(spec.cpus));
    writeControl(spec.tenant, join(cpusetDir, "cpuset.mems"), readControl(spec.tenant, join(this.#cpusetDir, "cpuset.mems")));
    writeControl(spec.tenant, join(memoryDir, "memory.limit_in_bytes"), String(spec.memoryBytes));
    // A group inherits oom_kill_disable from its parent, so the OOM killer could be off. Write only when it is: on
    // 6.x kernels a write to this file logs a deprecation warning to the kernel log.
    const oomControl = join(memoryDir, "memory.oom_control");
    if (readKeyedCounter(oomControl, "oom_kill_disable") !== 0) writeControl(spec.tenant, oomControl, "0");
  }

  oomKills(tenantDirs: readonly string[]): number | null {
    return readKeyedCounter(join(tenantDirs[1]!, "memory.oom_control"), "oom_kill");
  }

  memoryUsage(tenantDirs: readonly string[]): number | null {
    const text = tryReadControl(join(tenantDirs[1]!, "memory.usage_in_bytes"));
    return text === null ? null : Number(text);
  }
}
