/** @module pool/spec — checking a PoolSpec and an instance name before any cgroup is touched. */
import { formatCpuList, parseCpuList } from "../sys/cpu-list.ts";
import { PoolError } from "./pool-error.ts";
import type { PoolSpec } from "./types.ts";

/** Names that may become a cgroup directory: no "/", no leading ".", nothing a shell or the kernel treats specially. */
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$/;

/** Whether `name` can be used as a tenant or instance directory name. */
export function isValidGroupName(name: string): boolean {
  return NAME.test(name);
}

/** A frozen copy of `spec`, or PoolError (path = `groupPath`) saying which field is wrong and what it must be. */
export function checkPoolSpec(spec: PoolSpec, groupPath: string): PoolSpec {
  const fail = (message: string): never => {
    throw new PoolError(`invalid pool spec for tenant "${spec.tenant}": ${message}`, { tenant: spec.tenant, path: groupPath });
  };
  if (typeof spec.tenant !== "string" || !isValidGroupName(spec.tenant)) {
    fail("tenant must be 1-200 characters of [A-Za-z0-9_.-], not starting with \".\"");
  }
  if (!Array.isArray(spec.cpus) || spec.cpus.length === 0) fail("cpus must list at least one core id");
  for (const cpu of spec.cpus) if (!Number.isSafeInteger(cpu) || cpu < 0) fail(`cpu ${cpu} is not a core id (integer >= 0)`);
  if (!Number.isSafeInteger(spec.memoryBytes) || spec.memoryBytes <= 0) {
    fail(`memoryBytes ${spec.memoryBytes} must be a positive integer`);
  }
  return Object.freeze({ tenant: spec.tenant, cpus: Object.freeze([...spec.cpus]) as number[], memoryBytes: spec.memoryBytes });
}

/** Throws PoolError (code EINVAL, path = `allowedFile`) unless every core of `spec` is in `allowedText` ("0-1", "0,2"). */
export function checkCpusWithin(spec: PoolSpec, allowedText: string, allowedFile: string): void {
  const allowed = parseCpuList(allowedText);
  const outside = spec.cpus.filter((cpu) => !allowed.includes(cpu));
  if (outside.length === 0) return;
  throw new PoolError(
    `pool "${spec.tenant}" asks for cpus ${formatCpuList(outside)}, which its parent group does not have (${allowedFile}: "${allowedText}")`,
    { tenant: spec.tenant, path: allowedFile, code: "EINVAL" },
  );
}
