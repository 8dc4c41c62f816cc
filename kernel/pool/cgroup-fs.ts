/** @module pool/cgroup-fs — reading, writing, making and removing cgroup directories, with failures as PoolError. */
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PoolError, errnoCode } from "./pool-error.ts";

/** How long removal keeps retrying while exited processes are still leaving a group. */
const REMOVE_RETRY_MS = 3000;
const REMOVE_RETRY_STEP_MS = 20;

/** Write `value` to the control file `path`; throws PoolError naming the file, the value and the errno. */
export function writeControl(tenant: string, path: string, value: string, hint = ""): void {
  try {
    writeFileSync(path, value);
  } catch (error) {
    const code = errnoCode(error);
    throw new PoolError(`cannot write "${value}" to ${path}: ${code ?? String(error)}${hint}`, {
      tenant,
      path,
      code,
      cause: error,
    });
  }
}

/** Read the control file `path` without its trailing newline; throws PoolError when it cannot be read. */
export function readControl(tenant: string, path: string): string {
  try {
    return readFileSync(path, "utf8").trimEnd();
  } catch (error) {
    const code = errnoCode(error);
    throw new PoolError(`cannot read ${path}: ${code ?? String(error)}`, { tenant, path, code, cause: error });
  }
}

/** Read the control file `path`, or null when it cannot be read (group gone, file absent). */
export function tryReadControl(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trimEnd();
  } catch {
    return null;
  }
}

/** The value of the `key N` line of a flat keyed file such as memory.events or memory.oom_control; null if absent. */
export function readKeyedCounter(path: string, key: string): number | null {
  const text = tryReadControl(path);
  if (text === null) return null;
  for (const line of text.split("\n")) {
    const [name, value] = line.split(" ");
    if (name === key && value !== undefined) return Number(value);
  }
  return null;
}

/** The pids in the group `dir` (its cgroup.procs); empty when the group does not exist. */
export function groupPids(dir: string): number[] {
  const text = tryReadControl(join(dir, "cgroup.procs"));
  if (text === null || text === "") return [];
  return text.split("\n").map(Number);
}

/** Whether `dir` is an existing directory (a group), as opposed to absent or a control file of that name. */
export function isGroup(tenant: string, dir: string): boolean {
  try {
    if (lstatSync(dir).isDirectory()) return true;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return false;
    throw new PoolError(`cannot stat ${dir}: ${errnoCode(error)}`, { tenant, path: dir, code: errnoCode(error) });
  }
  throw new PoolError(`${dir} exists and is not a group: pick a tenant name that is not a cgroup control file`, {
    tenant,
    path: dir,
    code: "EEXIST",
  });
}

/** Make the group `dir` unless it exists; throws PoolError on failure (EROFS, EACCES, ENOSPC, ...). */
export function makeGroup(tenant: string, dir: string): void {
  if (isGroup(tenant, dir)) return;
  try {
    mkdirSync(dir);
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return;
    const code = errnoCode(error);
    throw new PoolError(`cannot create cgroup ${dir}: ${code ?? String(error)}`, { tenant, path: dir, code, cause: error });
  }
}

/** The child groups of `dir` (its subdirectories); empty when `dir` does not exist. */
export function childGroups(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(dir, entry.name));
}

/** One rmdir attempt: "gone" (removed or never there), "busy" (still populated) or a PoolError to throw. */
function tryRemove(tenant: string, dir: string): "gone" | "busy" | PoolError {
  try {
    rmdirSync(dir);
    return "gone";
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT") return "gone";
    if (code === "EBUSY" || code === "ENOTEMPTY") return "busy";
    return new PoolError(`cannot remove cgroup ${dir}: ${code ?? String(error)}`, { tenant, path: dir, code, cause: error });
  }
}

function stillBusy(tenant: string, dir: string): PoolError {
  const pids = groupPids(dir);
  const holders = pids.length > 0 ? `processes ${pids.join(", ")} are still in it` : "it still has child groups or exiting tasks";
  return new PoolError(`cannot remove cgroup ${dir} after ${REMOVE_RETRY_MS} ms: ${holders}`, { tenant, path: dir, code: "EBUSY" });
}

/** Remove the group `dir`, retrying on EBUSY for a moment (exited processes leave it shortly). Absent is fine. */
export async function removeGroup(tenant: string, dir: string): Promise<void> {
  const deadline = Date.now() + REMOVE_RETRY_MS;
  for (;;) {
    const outcome = tryRemove(tenant, dir);
    if (outcome === "gone") return;
    if (outcome !== "busy") throw outcome;
    if (Date.now() >= deadline) throw stillBusy(tenant, dir);
    await Bun.sleep(REMOVE_RETRY_STEP_MS);
  }
}

/** `removeGroup` for synchronous callers: the same retries, sleeping the thread between them. */
export function removeGroupSync(tenant: string, dir: string): void {
  const deadline = Date.now() + REMOVE_RETRY_MS;
  for (;;) {
    const outcome = tryRemove(tenant, dir);
    if (outcome === "gone") return;
    if (outcome !== "busy") throw outcome;
    if (Date.now() >= deadline) throw stillBusy(tenant, dir);
    Bun.sleepSync(REMOVE_RETRY_STEP_MS);
  }
}
