/** @module supervisor — boots every valid tenant, keeps their services alive, and answers the control socket. */
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  admitTenants,
  hostFacts,
  readTenantFiles,
  type HostConfig,
  type HostFacts,
  type RejectedTenant,
  type TenantConfig,
  type TenantDefaults,
} from "../config/index.ts";
import { ControlError, type FaultRequest, type Request } from "../control/index.ts";
import type { Logger } from "../log/index.ts";
import { detectPoolSupport, PoolManager, type PoolSupport } from "../pool/index.ts";
import { readStats } from "../service-host/index.ts";
import { SupervisorEmitter } from "./events.ts";
import { OperationLock } from "./operation-lock.ts";
import { tenantPaths } from "./paths.ts";
import { planReload } from "./reload-plan.ts";
import type { ServiceStatus, TenantStatus } from "./status.ts";
import { TenantRunner, UnknownServiceError } from "./tenant.ts";

/** A tenant file that was not started, and why. */
interface Rejected {
  file: string;
  name?: string;
  errors: string[];
}

/** What `reload` did. */
export interface ReloadSummary {
  started: string[];
  stopped: string[];
  restarted: string[];
  unchanged: string[];
  /** Tenants whose file was refused and that keep running the version they had. */
  kept: string[];
  rejected: { file: string; tenant?: string; errors: string[] }[];
}

const PING_TIMEOUT_MS = 5000;

/** The supervisor of one host config: tenants, their pools and processes, the watchdog. */
export class Supervisor {
  readonly events = new SupervisorEmitter();
  readonly pools: PoolManager;
  private readonly tenants = new Map<string, TenantRunner>();
  /** Tenant names in the order they were started (stop goes in reverse). */
  private startOrder: string[] = [];
  private rejected: Rejected[] = [];
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private stopping: Promise<void> | null = null;
  /** Start, reload and start-tenant run alone; stop-tenant and fault one at a time per tenant; shutdown closes it. */
  private readonly lock = new OperationLock();

  constructor(
    readonly host: HostConfig,
    private readonly defaults: TenantDefaults,
    private readonly log: Logger,
    private readonly facts: HostFacts = hostFacts(),
    support: PoolSupport = detectPoolSupport(),
  ) {
    this.pools = new PoolManager(host.instance, support);
  }

  /** Starts every valid tenant in name order and the watchdog. Invalid tenants are reported and skipped. */
  start(): Promise<void> {
    return this.lock.exclusive(() => this.boot());
  }

  private async boot(): Promise<void> {
    // Traversable but not listable: tenants running as their own users reach their own (0700) directories inside.
    mkdirSync(this.host.stateDir, { recursive: true, mode: 0o711 });
    chmodSync(this.host.stateDir, 0o711);
    const support = this.pools.support;
    if (support.kind === "unavailable") this.events.emit("pool:unavailable", { reason: support.reason });
    const plan = planReload([], readTenantFiles(this.host, this.defaults), this.facts);
    this.rejected = this.report(plan.rejected);
    this.watchdog = setInterval(() => {
      const now = performance.now();
      for (const runner of this.tenants.values()) runner.watch(now);
    }, this.host.heartbeatMs);
    for (const tenant of plan.start) await this.startTenantConfig(tenant);
  }

  /** Emits tenant:rejected for each refused file and returns them as status shows them. */
  private report(rejected: RejectedTenant[]): Rejected[] {
    const reported = rejected.map((r) => ({ file: r.file, name: r.name, errors: r.issues.map((i) => i.message) }));
    for (const r of reported) this.events.emit("tenant:rejected", { tenant: r.name, file: r.file, errors: r.errors });
    return reported;
  }

  /** The tenants this supervisor holds, at the version each runs (or last ran): they keep their resources. */
  private held(): TenantConfig[] {
    return [...this.tenants.values()].map((r) => r.config);
  }

  private async startTenantConfig(config: TenantConfig): Promise<void> {
    const runner = new TenantRunner(config, this.pools, tenantPaths(this.host, config.name), this.host, this.events, this.log);
    this.tenants.set(config.name, runner);
    this.startOrder = [...this.startOrder.filter((n) => n !== config.name), config.name];
    await runner.start();
  }

  private async stopTenantRunner(name: string): Promise<void> {
    const runner = this.tenants.get(name);
    if (!runner) return;
    await runner.stop();
    this.tenants.delete(name);
    this.startOrder = this.startOrder.filter((n) => n !== name);
  }

  private runner(name: string): TenantRunner {
    const runner = this.tenants.get(name);
    if (!runner) {
      const known = [...this.tenants.keys()].join(", ") || "none";
      throw new ControlError("ENOENT", `no tenant "${name}" is known to this supervisor (tenants: ${known})`);
    }
    return runner;
  }

  /**
   * Re-reads the tenant files (see planReload): stops tenants whose file is gone, restarts changed ones, starts new
   * ones. A running tenant keeps its resources against every newcomer, and a file refused for any reason keeps its
   * tenant's running version. Runs alone: never beside another reload, start-tenant, stop-tenant or fault.
   */
  reload(): Promise<ReloadSummary> {
    return this.lock.exclusive(async () => {
      const plan = planReload(this.held(), readTenantFiles(this.host, this.defaults), this.facts);
      const rejected = this.report(plan.rejected);
      const stopped = [...this.startOrder].reverse().filter((name) => plan.stop.includes(name));
      for (const name of stopped) await this.stopTenantRunner(name);
      for (const config of plan.restart) {
        await this.stopTenantRunner(config.name);
        await this.startTenantConfig(config);
      }
      for (const config of plan.start) await this.startTenantConfig(config);
      this.rejected = rejected;
      return {
        started: plan.start.map((t) => t.name),
        stopped,
        restarted: plan.restart.map((t) => t.name),
        unchanged: plan.unchanged,
        kept: plan.kept,
        rejected: rejected.map((r) => ({ file: r.file, tenant: r.name, errors: r.errors })),
      };
    });
  }

  /**
   * Starts a stopped or failed tenant again, from its current file, which must fit beside every other tenant held.
   * EBUSY when it runs, EINVAL when its file is invalid or in conflict, ENOENT when no file defines it.
   */
  startTenant(name: string): Promise<TenantStatus> {
    return this.lock.exclusive(async () => {
      const existing = this.tenants.get(name);
      if (existing && (existing.state === "running" || existing.state === "starting")) {
        throw new ControlError("EBUSY", `tenant ${name} is already ${existing.state}`);
      }
      const file = existing?.config.file ?? join(this.host.tenantsDir, `${name}.toml`);
      const files = readTenantFiles(this.host, this.defaults);
      const others = this.held().filter((t) => t.name !== name);
      const { accepted, rejected } = admitTenants(files.loaded.filter((t) => t.file === file), files.rejected.filter((r) => r.file === file), this.facts, others);
      const reported = this.report(rejected);
      this.rejected = [...this.rejected.filter((r) => r.file !== file), ...reported];
      const config = accepted[0];
      if (!config) {
        const why = reported[0];
        throw new ControlError(why ? "EINVAL" : "ENOENT", why ? `tenant ${name} has an invalid config: ${why.errors.join("; ")}` : `no tenant file defines "${name}" in ${this.host.tenantsDir}`);
      }
      if (existing) await this.stopTenantRunner(name);
      await this.startTenantConfig(config);
      return this.tenantStatus(this.tenants.get(name)!);
    });
  }

  /** Stops one tenant (it stays listed as stopped, and keeps its resources, until reload or start-tenant). */
  stopTenant(name: string): Promise<TenantStatus> {
    return this.lock.keyed(name, async () => {
      const runner = this.runner(name);
      await runner.stop();
      return this.tenantStatus(runner);
    });
  }

  /** Carries out one fault order against exactly one service process of one tenant. */
  fault(order: FaultRequest): Promise<{ tenant: string; service: string; pid: number | null; fault: string }> {
    return this.lock.keyed(order.tenant, async () => this.injectFault(order));
  }

  private injectFault(order: FaultRequest): { tenant: string; service: string; pid: number | null; fault: string } {
    const runner = this.runner(order.tenant);
    let unit;
    try {
      unit = runner.unitOf(order.service);
    } catch (error) {
      if (error instanceof UnknownServiceError) throw new ControlError("ENOENT", error.message);
      throw error;
    }
    const pid = unit.pid;
    if (pid === null || unit.state !== "running") throw new ControlError("EBUSY", `${order.tenant}/${unit.name} is ${unit.state}, not running`);
    // `slow` delays the requests the process serves: every process of the data path serves some (a union or
    // client-cache process of a split topology serves its channel, see services/tenant-stack.ts), fuse-legacy the kernel's.
    this.events.emit("service:fault", { tenant: order.tenant, service: unit.name, pid, fault: order.kind });
    switch (order.kind) {
      case "kill":
        unit.kill();
        break;
      case "crash-loop":
        // This crash plus times-1 crashes at start.
        unit.crashStartsLeft = (order.times ?? 3) - 1;
        unit.send({ type: "fault", kind: "exit", code: 70 });
        break;
      case "exit":
        unit.send({ type: "fault", kind: "exit", code: order.code ?? 0 });
        break;
      case "oom":
        unit.send({ type: "fault", kind: "oom", limitBytes: runner.config.memoryBytes });
        break;
      case "hang":
        unit.send({ type: "fault", kind: "hang" });
        break;
      case "slow":
        unit.send({ type: "fault", kind: "slow", latencyMs: order.latencyMs ?? 50, durationMs: order.durationMs ?? 5000 });
        break;
    }
    return { tenant: order.tenant, service: unit.name, pid, fault: order.kind };
  }

  /** Round trip of a control ping to one service, in ms. */
  async ping(tenant: string, service: string): Promise<{ tenant: string; service: string; pid: number | null; rttMs: number }> {
    const runner = this.runner(tenant);
    let unit;
    try {
      unit = runner.unitOf(service);
    } catch (error) {
      if (error instanceof UnknownServiceError) throw new ControlError("ENOENT", error.message);
      throw error;
    }
    const rtt = await unit.ping(PING_TIMEOUT_MS);
    if (rtt === null) throw new ControlError("EBUSY", `${tenant}/${unit.name} did not answer within ${PING_TIMEOUT_MS} ms (state ${unit.state})`);
    return { tenant, service: unit.name, pid: unit.pid, rttMs: rtt };
  }

  private tenantStatus(runner: TenantRunner): TenantStatus {
    const now = Date.now();
    const services: ServiceStatus[] = runner.units.flatMap((unit) =>
      unit.services.map((name) => ({
        name,
        process: unit.name,
        pid: unit.pid,
        state: unit.state,
        restarts: unit.restarts,
        uptimeMs: unit.startedAt === null ? null : now - unit.startedAt,
        lastExit: unit.lastExit?.reason ?? null,
        lastExitAt: unit.lastExit ? new Date(unit.lastExit.at).toISOString() : null,
        heartbeat: { count: unit.heartbeat.count, maxGapMs: unit.heartbeat.maxGapMs },
      })),
    );
    return {
      name: runner.config.name,
      state: runner.state,
      cpus: runner.config.cpus,
      memoryBytes: runner.config.memoryBytes,
      memoryUsageBytes: runner.memoryUsage,
      pool: runner.poolStatus,
      file: runner.config.file,
      services,
      errors: runner.failedReason ? [runner.failedReason] : [],
      stats: runner.state === "running" ? readStats(runner.runDir) : {},
    };
  }

  /** Every known tenant (started, failed, stopped, or rejected as invalid), in name order. */
  status(): TenantStatus[] {
    const known: TenantStatus[] = [...this.tenants.values()].map((r) => this.tenantStatus(r));
    for (const r of this.rejected) {
      const holder = known.find((t) => t.file === r.file);
      if (holder) {
        holder.errors.push(...r.errors.map((e) => `not reloaded: ${e}`));
        continue;
      }
      known.push({ name: r.name ?? r.file, state: "invalid", cpus: [], memoryBytes: 0, memoryUsageBytes: null, pool: "-", file: r.file, services: [], errors: r.errors, stats: {} });
    }
    return known.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Answers one control request. */
  async handle(request: Request): Promise<unknown> {
    switch (request.cmd) {
      case "status": return this.status();
      case "fault": return this.fault(request);
      case "reload": return this.reload();
      case "start-tenant": return this.startTenant(request.tenant);
      case "stop-tenant": return this.stopTenant(request.tenant);
      case "ping": return this.ping(request.tenant, request.service);
      case "shutdown":
        // Refuse what comes after now; answer first; the caller of the supervisor decides how to exit once shutdown() resolves.
        void this.closeLock();
        setTimeout(() => void this.shutdown(), 0);
        return { stopping: [...this.startOrder].reverse() };
    }
  }

  /** Refuses every control operation not yet started (ESHUTDOWN); resolves once the running ones are done. */
  private closeLock(): Promise<void> {
    return this.lock.close(() => new ControlError("ESHUTDOWN", "the supervisor is shutting down"));
  }

  /**
   * Lets the running control operation finish and refuses the others (ESHUTDOWN), then stops every tenant in reverse
   * start order and removes the pools. Idempotent; resolves when everything is gone.
   */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      await this.closeLock();
      if (this.watchdog) clearInterval(this.watchdog);
      for (const name of [...this.startOrder].reverse()) await this.stopTenantRunner(name);
      await this.pools.removeAll();
      this.events.emit("supervisor:stopped");
    })();
    return this.stopping;
  }
}
