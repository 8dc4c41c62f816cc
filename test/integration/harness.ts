/** A real supervisor in a temporary state dir, with two tenants, driven through its control socket (for integration tests). */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { request, type Reply } from "../../kernel/control/index.ts";
import { readStats } from "../../kernel/service-host/index.ts";
import type { TenantStatus } from "../../kernel/supervisor/index.ts";

const ROOT = resolve(import.meta.dir, "../..");
let counter = 0;

/** Options of a test supervisor. */
export interface HarnessOptions {
  heartbeatMs?: number;
  hungAfterMs?: number;
  /** Tenant files by name (TOML text). Defaults: alpha on core 0 and beta on the last core. */
  tenants?: Record<string, string>;
  restart?: string;
  /** Run the supervisor as this uid/gid (via setpriv) instead of the current user; the test dir is handed to it. */
  asUser?: number;
}

/** The last core of this machine (beta's core in the default tenants). */
export const LAST_CPU = Math.max(0, navigator.hardwareConcurrency - 1);

/** One process per service: lets control-plane tests kill one service without its neighbours. */
export const SPLIT_TOPOLOGY = `topology = [["client-cache"], ["union"], ["ipc-router"], ["fuse-legacy"]]`;

/**
 * A tenant file with one core and one data mount; `top` goes among the top-level keys (default: {@link SPLIT_TOPOLOGY}),
 * `extra` (tables) at the end.
 */
export function tenantToml(name: string, cpu: number, extra = "", top = SPLIT_TOPOLOGY): string {
  return `name = "${name}"\ncpus = [${cpu}]\nmemory = "384MiB"\nshareCpus = true\n${top}\n[backend]\nkind = "local"\nroot = "backends/${name}"\n[[mounts]]\npath = "/mnt/test/${name}"\nsource = "data"\n${extra}`;
}

/** Sleeps `ms`. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 50 ms until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await sleep(50);
  }
}

/** The `requests` and `busyMicros` counters each service published (kernel/ipc/server/server-counters.ts), by service. */
export type RequestCounts = Partial<Record<string, { requests: number; busyMicros: number }>>;

/**
 * The request counts of those of `services` that publish them in the tenant run directory `runDir`, once settled and
 * `ready`: service threads add their counts when idle and processes publish every second, so settled means two
 * publications of every such service that agree. Throws after `timeoutMs`.
 */
export async function settledRequestCounts(
  runDir: string,
  services: readonly string[],
  ready: (counts: RequestCounts) => boolean = () => true,
  timeoutMs = 60_000,
): Promise<RequestCounts> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  let lastAt: Record<string, number> = {};
  for (;;) {
    const published = readStats(runDir);
    const counts: RequestCounts = {};
    const at: Record<string, number> = {};
    for (const service of services) {
      const entry = published[service];
      if (entry?.stats.requests === undefined || entry.stats.busyMicros === undefined) continue;
      counts[service] = { requests: entry.stats.requests, busyMicros: entry.stats.busyMicros };
      at[service] = entry.at;
    }
    const key = JSON.stringify(counts);
    if (key === last && Object.entries(at).every(([service, t]) => t > (lastAt[service] ?? Infinity)) && ready(counts)) return counts;
    if (key !== last) [last, lastAt] = [key, at];
    if (Date.now() > deadline) throw new Error(`the request counts in ${runDir} did not settle within ${timeoutMs} ms: ${key}`);
    await sleep(100);
  }
}

/** Whether a pid is alive (zombies count as dead). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** A running supervisor for one test file. */
export class Harness {
  readonly dir: string;
  readonly instance: string;
  readonly hostFile: string;
  readonly socket: string;
  readonly heartbeatMs: number;
  proc: Subprocess | null = null;
  readonly logs: string[] = [];
  /** Every service pid seen, to check nothing outlives the supervisor. */
  readonly seenPids = new Set<number>();

  constructor(readonly options: HarnessOptions = {}) {
    this.instance = `test-${process.pid}-${++counter}`;
    this.dir = mkdtempSync(join(tmpdir(), "danaus-it-"));
    // Traversable, so tenants running as their own users reach their directories under the state dir.
    chmodSync(this.dir, 0o711);
    this.hostFile = join(this.dir, "host.toml");
    this.socket = join(this.dir, "state", "control.sock");
    this.heartbeatMs = options.heartbeatMs ?? 100;
    mkdirSync(join(this.dir, "tenants"));
    writeFileSync(
      this.hostFile,
      `instance = "${this.instance}"\nstateDir = "state"\ntenantsDir = "tenants"\nheartbeatMs = ${this.heartbeatMs}\nhungAfterMs = ${options.hungAfterMs ?? 5000}\n` +
        `[defaults.restart]\n${options.restart ?? "intensity = 5\nperiodMs = 30000\nbackoffBaseMs = 50\nbackoffCapMs = 400\nshutdownMs = 1500"}\n`,
    );
    const tenants = options.tenants ?? { alpha: tenantToml("alpha", 0), beta: tenantToml("beta", LAST_CPU) };
    for (const [name, text] of Object.entries(tenants)) this.writeTenant(name, text);
  }

  /** Writes (or replaces) a tenant file. */
  writeTenant(name: string, text: string): void {
    writeFileSync(join(this.dir, "tenants", `${name}.toml`), text);
  }

  /** Removes a tenant file. */
  removeTenant(name: string): void {
    rmSync(join(this.dir, "tenants", `${name}.toml`));
  }

  /** Starts the supervisor and waits until every tenant in `expect` is running. */
  async start(expectRunning: string[] = ["alpha", "beta"]): Promise<void> {
    const user = this.options.asUser;
    if (user !== undefined) chownTree(this.dir, user);
    const launcher = user === undefined ? [] : ["setpriv", `--reuid=${user}`, `--regid=${user}`, "--clear-groups", "--"];
    this.proc = Bun.spawn([...launcher, process.execPath, join(ROOT, "kernel/main.ts"), "--config", this.hostFile], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DANAUS_LOG_LEVEL: "info" },
    });
    void this.collect(this.proc.stderr as ReadableStream<Uint8Array>);
    await waitFor("tenants running", async () => {
      const tenants = await this.status();
      return expectRunning.every((name) => tenants.find((t) => t.name === name)?.state === "running");
    });
  }

  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of stream) {
      rest += decoder.decode(chunk);
      const lines = rest.split("\n");
      rest = lines.pop()!;
      this.logs.push(...lines);
      if (process.env.DANAUS_TEST_VERBOSE) for (const line of lines) process.stderr.write(line + "\n");
    }
  }

  /** Sends a raw control request and returns the reply. */
  ctl(body: Record<string, unknown>): Promise<Reply> {
    return request(this.socket, body, 20_000);
  }

  /** Sends a request that must succeed; returns its result. */
  async ok(body: Record<string, unknown>): Promise<unknown> {
    const reply = await this.ctl(body);
    if (!reply.ok) throw new Error(`${body.cmd} failed: ${reply.error.code} ${reply.error.message}`);
    return reply.result;
  }

  /** The supervisor's status (records every pid it shows). */
  async status(): Promise<TenantStatus[]> {
    const tenants = (await this.ok({ cmd: "status" })) as TenantStatus[];
    for (const t of tenants) for (const s of t.services) if (s.pid !== null) this.seenPids.add(s.pid);
    return tenants;
  }

  /** One tenant's status. */
  async tenant(name: string): Promise<TenantStatus> {
    const found = (await this.status()).find((t) => t.name === name);
    if (!found) throw new Error(`no tenant ${name} in status`);
    return found;
  }

  /** service name → pid for a tenant. */
  async pids(name: string): Promise<Record<string, number | null>> {
    return Object.fromEntries((await this.tenant(name)).services.map((s) => [s.name, s.pid]));
  }

  /** Runs the CLI against this supervisor; returns exit code and output. */
  async cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const proc = Bun.spawn([process.execPath, join(ROOT, "kernel/cli/main.ts"), ...args, "--config", this.hostFile], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr };
  }

  /** Paths this instance may leave behind: cgroup dirs and shared-memory files. */
  leftovers(): string[] {
    const found: string[] = [];
    for (const hierarchy of ["cpuset", "memory", "unified", ""]) {
      const path = join("/sys/fs/cgroup", hierarchy, `danaus.${this.instance}`);
      if (existsSync(path)) found.push(path);
    }
    for (const name of readdirSync("/dev/shm")) if (name.startsWith(`danaus.${this.instance}.`)) found.push(join("/dev/shm", name));
    return found;
  }

  /** Stops the supervisor (shutdown request, else SIGKILL) and removes whatever is left; safe to call twice. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      try {
        await this.ctl({ cmd: "shutdown" });
        await Promise.race([proc.exited, sleep(15_000)]);
      } catch {
        // fall through to SIGKILL
      }
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await proc.exited;
    }
    for (const pid of this.seenPids) if (alive(pid)) process.kill(pid, "SIGKILL");
    await waitFor("service processes gone", () => [...this.seenPids].every((pid) => !alive(pid)), 5000).catch(() => {});
    for (const path of this.leftovers().reverse()) {
      if (path.startsWith("/dev/shm")) rmSync(path, { force: true });
      else removeCgroupTree(path);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) chownTree(child, uid);
    else chownSync(child, uid, uid);
  }
}

function removeCgroupTree(path: string): void {
  if (!existsSync(path)) return;
  for (const entry of readdirSync(path, { withFileTypes: true })) if (entry.isDirectory()) removeCgroupTree(join(path, entry.name));
  try {
    rmdirSync(path);
  } catch {
    // still busy: the leftover check of the test command will report it
  }
}
