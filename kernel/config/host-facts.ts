/** @module host-facts — the cores and memory this host has, against which tenants are checked. */
import { readFileSync } from "node:fs";
import { cpus as osCpus, totalmem } from "node:os";
import { parseCpuList } from "../sys/cpu-list.ts";

/** What the host offers tenants: its usable core ids (sorted) and its memory in bytes. */
export interface HostFacts {
  cpus: number[];
  memoryBytes: number;
}

/**
 * Reads the host's facts: the online cores from /sys/devices/system/cpu/online, else the process's affinity
 * (Cpus_allowed_list in /proc/self/status), else 0..n-1 for the n cores node:os reports; memory from os.totalmem().
 */
export function hostFacts(): HostFacts {
  const cpus =
    readCpuList(() => readFileSync("/sys/devices/system/cpu/online", "utf8")) ??
    readCpuList(() => /^Cpus_allowed_list:\s*(.*)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? "") ??
    osCpus().map((_, i) => i);
  return { cpus, memoryBytes: totalmem() };
}

function readCpuList(read: () => string): number[] | null {
  try {
    const list = parseCpuList(read());
    return list.length > 0 ? list : null;
  } catch {
    return null;
  }
}
