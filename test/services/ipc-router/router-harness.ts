/** An ipc-router running inside the test process (its service threads are real Workers) over a temp local backend. */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BackendConfig, CacheConfig, TenantConfig } from "../../../kernel/config/index.ts";
import type { Subprocess } from "bun";
import type { ServiceRuntime } from "../../../kernel/service-host/index.ts";
import { routerSocketPath, type RouterLimits } from "../../../services/ipc-router/index.ts";

let counter = 0;

/** A running router process. */
export interface TestRouter {
  readonly proc: Subprocess<"pipe", "pipe", "pipe">;
  readonly socket: string;
  /** Host directory behind mount `/m<i>` is `<backendRoot>/m<i>` (for a cephfs backend: the path in the cluster). */
  readonly backendRoot: string;
  readonly tenant: TenantConfig;
  readonly runtime: ServiceRuntime;
  /** Its log lines (JSON). */
  readonly logs: string[];
  /** Sends a test command line to the router host (see router-host.ts). */
  command(line: string): void;
  /** The next stdout line of the router host. */
  nextLine(): Promise<string>;
  stop(): Promise<void>;
}

/** How {@link startTestRouter} sets up its tenant. */
export interface TestRouterOptions {
  /** Direct mounts `/m0`, `/m1`, ... (default 1). */
  mounts?: number;
  /**
   * Union mounts `/u0`, `/u1`, ...: a writable upper over read-only lowers (top first), backend paths. On a local
   * backend the harness creates each upper; the lowers must exist (the caller fills them).
   */
  unions?: readonly { upper: string; lowers: readonly string[] }[];
  cpus?: number[];
  limits?: Partial<RouterLimits>;
  /** The backend (default: a local backend on a fresh temp dir); a cephfs root is created by the router. */
  backend?: BackendConfig;
  /** Cache settings over the harness's defaults (512 MiB, async write-back). */
  cache?: Partial<CacheConfig>;
  /** The tenant's name (default: unique per call). A restarted tenant reuses its name (and so its Ceph session). */
  name?: string;
  /** Confine every thread of the router process to the tenant's cpus, as its pool's cpuset would (taskset). */
  pinProcess?: boolean;
  /** Directory streams per client (default 1024). */
  maxDirStreams?: number;
}

/**
 * Starts a router process for a tenant with `mounts` direct mounts `/m0`, `/m1`, ... each on its own empty directory,
 * and the union mounts `/u0`, `/u1`, ... of `unions`.
 */
export async function startTestRouter(options: TestRouterOptions = {}): Promise<TestRouter> {
  const dir = mkdtempSync(join(tmpdir(), "danaus-router-"));
  const backend: BackendConfig = options.backend ?? { kind: "local", root: join(dir, "backend") };
  const backendRoot = backend.root;
  const mountCount = options.mounts ?? 1;
  const unions = options.unions ?? [];
  if (backend.kind === "local") for (let i = 0; i < mountCount; i++) mkdirSync(join(backendRoot, `m${i}`), { recursive: true, mode: 0o700 });
  if (backend.kind === "local") for (const u of unions) mkdirSync(join(backendRoot, u.upper), { recursive: true, mode: 0o700 });
  const runDir = join(dir, "run");
  mkdirSync(runDir, { mode: 0o700 });
  const name = options.name ?? `rt${process.pid}x${++counter}`;
  const tenant: TenantConfig = {
    name,
    file: join(dir, `${name}.toml`),
    cpus: options.cpus ?? [0],
    shareCpus: true,
    user: null,
    memoryBytes: 1 << 30,
    backend,
    cache: { sizeBytes: 1 << 29, maxDirtyBytes: 1 << 28, blockSizeBytes: 65536, writebackMs: 1000, expireMs: 5000, writeback: "async", ...options.cache },
    mounts: [
      ...Array.from({ length: mountCount }, (_, i) => ({ path: `/m${i}`, kind: "direct" as const, source: `m${i}`, legacy: false })),
      ...unions.map((u, i) => ({ path: `/u${i}`, kind: "union" as const, upper: u.upper, lowers: [...u.lowers], legacy: false })),
    ],
    fuse: { directIo: true, attrTimeoutMs: 1000, entryTimeoutMs: 1000, negativeTimeoutMs: 1000, threads: 2, maxNodes: 131072 },
    maxDirStreams: options.maxDirStreams ?? 1024,
    heldRequestMs: 1000,
    topology: [["client-cache", "union", "ipc-router"]],
    restart: { strategy: "one_for_one", intensity: 5, periodMs: 30000, backoffBaseMs: 100, backoffCapMs: 5000, shutdownMs: 3000, services: { "client-cache": "permanent", union: "permanent", "ipc-router": "permanent", "fuse-legacy": "permanent" } },
  };
  const instance = `test-${process.pid}`;
  const runtime: ServiceRuntime = { instance, runDir, shmPrefix: `/dev/shm/danaus.${instance}.${name}.` };
  const pin = options.pinProcess ? ["taskset", "-c", tenant.cpus.join(",")] : [];
  const proc = Bun.spawn([...pin, process.execPath, join(import.meta.dir, "router-host.ts"), JSON.stringify({ tenant, runtime, limits: options.limits ?? {} })], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const logs: string[] = [];
  void (async () => {
    for await (const chunk of proc.stderr) logs.push(...new TextDecoder().decode(chunk).split("\n").filter(Boolean));
  })();
  const reader = proc.stdout.getReader();
  let pending = "";
  const nextLine = async (): Promise<string> => {
    for (;;) {
      const newline = pending.indexOf("\n");
      if (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`router host exited (${proc.exitCode}): ${logs.slice(-5).join("\n")}`);
      pending += new TextDecoder().decode(value);
    }
  };
  const first = await nextLine();
  if (first !== "ready") throw new Error(`router host said ${first}`);
  return {
    proc,
    socket: routerSocketPath(runDir),
    backendRoot,
    tenant,
    runtime,
    logs,
    command(line) {
      proc.stdin.write(line + "\n");
      proc.stdin.flush();
    },
    nextLine,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
        await proc.exited;
        clearTimeout(timer);
      }
      for (const file of [`${runtime.shmPrefix}region`]) rmSync(file, { force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
