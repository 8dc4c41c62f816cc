/** @module test/kernel/pool/fixtures — shared set-up for the pool tests: host support, unique instances, child cleanup. */
import type { Subprocess } from "bun";
import { detectPoolSupport, type PoolManager, type PoolSupport } from "../../../kernel/pool/index.ts";

/** This host's pool support, probed once for the whole test run. */
export const support: PoolSupport = detectPoolSupport();

/** True when the cgroup tests cannot run here; they are then skipped with the reason printed once per file. */
export function cgroupsUnavailable(file: string): boolean {
  if (support.kind !== "unavailable") return false;
  console.warn(`${file}: skipping cgroup tests: ${support.reason}`);
  return true;
}

let counter = 0;

/** A fresh instance name for one test, unique to this process: test-<pid>-<n>. */
export function instanceName(): string {
  counter += 1;
  return `test-${process.pid}-${counter}`;
}

/** The Bun binary running these tests, to start child processes with. */
export const bun = process.execPath;

/** Children and managers one test started; `cleanUp()` kills the former by pid and empties the latter. */
export class TestResources {
  readonly #children: Subprocess[] = [];
  readonly #managers: PoolManager[] = [];

  /** Spawn `argv` with piped stdout/stderr and remember it for clean-up. */
  spawn(argv: string[]): Subprocess<"ignore", "pipe", "pipe"> {
    const child = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    this.#children.push(child);
    return child;
  }

  /** Remember `manager` so its pools are removed after the test. */
  track<T extends PoolManager>(manager: T): T {
    this.#managers.push(manager);
    return manager;
  }

  /** SIGKILL every child still running (by pid), wait for them, then removeAll() every manager. */
  async cleanUp(): Promise<void> {
    for (const child of this.#children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await child.exited;
    }
    const errors: unknown[] = [];
    for (const manager of this.#managers.splice(0)) await manager.removeAll().catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw errors[0];
  }
}

/** The first line `child` writes to stdout (without the newline); rejects if stdout ends first. */
export async function firstLine(child: Subprocess<"ignore", "pipe", "pipe">): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of child.stdout) {
    text += decoder.decode(chunk, { stream: true });
    const end = text.indexOf("\n");
    if (end >= 0) return text.slice(0, end);
  }
  const stderr = await new Response(child.stderr).text();
  throw new Error(`child ${child.pid} ended its output without a line: ${JSON.stringify(text)}; stderr: ${stderr}`);
}

/** The value of `field` in a /proc status text ("Cpus_allowed_list:\t0-1" → "0-1"). */
export function statusField(status: string, field: string): string | undefined {
  return new RegExp(`^${field}:\\s*(.*)$`, "m").exec(status)?.[1];
}
