/** @module supervisor — boots every valid tenant, keeps their services alive, and answers the control socket. */
import { chmodSync, mkdirSync } from "node:fs";
import {
  hostFacts,
  loadTenants,
  tenantFingerprint,
  type HostConfig,
  type HostFacts,
  type TenantConfig,
  type TenantDefaults,
} from "../config/index.ts";
import { ControlError, type FaultRequest, type Request } from "../control/index.ts";
import type { Logger } from "../log/index.ts";
import { detectPoolSupport, PoolManager, type PoolSupport } from "../pool/index.ts";
import { readStats } from "../service-host/index.ts";
import { SupervisorEmitter } from "./events.ts";
import { tenantPaths } from "./paths.ts";
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
  async start(): Promise<void> {
    // Traversable but not listable: tenants running as their own users reach their own (0700) directories inside.
    mkdirSync(this.host.stateDir, { recursive: true, mode: 0o711 });
    chmodSync(this.host.stateDir, 0o711);
    const support = this.pools.support;
    if (support.kind === "unavailable") this.events.emit("pool:unavailable", { reason: support.reason });
    const { accepted, rejected } = this.load();
    this.rejected = rejected;
    this.watchdog = setInterval(() => {
      const now = performance.now();
      for (const runner of this.tenants.values()) runner.watch(now);
    }, this.host.heartbeatMs);
    for (const tenant of accepted) await this.startTenantConfig(tenant);
  }

  private load(): { accepted: TenantConfig[]; rejected: Rejected[] } {
    const { accepted, rejected } = loadTenants(this.host, this.defaults, this.facts);
    const reported = rejected.map((r) => ({ file: r.file, name: r.name, errors: r.issues.map((i) => i.message) }));
    for (const r of reported) this.events.emit("tenant:rejected", { tenant: r.name, file: r.file, errors: r.errors });
    return { accepted, rejected: reported };
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

  /** Re-reads the tenant files: starts new tenants, stops removed ones, restarts changed ones; an invalid file keeps the running version. */
  async reload(): Promise<ReloadSummary> {
    const { accepted, rejected } = this.load();
    const summary: ReloadSummary = { started: [], stopped: [], restarted: [], unchanged: [], rejected: rejected.map((r) => ({ file: r.file, tenant: r.name, errors: r.errors })) };
    const stillDefined = new Set([...accepted.map((t) => t.name), ...rejected.flatMap((r) => (r.name ? [r.name] : []))]);
    for (const name of [...this.startOrder].reverse()) {
      if (stillDefined.has(name)) continue;
      await this.stopTenantRunner(name);
      summary.stopped.push(name);
    }
    for (const config of accepted) {
      const current = this.tenants.get(config.name);
      if (!current) {
        await this.startTenantConfig(config);
        summary.started.push(config.name);
      } else if (tenantFingerprint(current.config) !== tenantFingerprint(config)) {
        await this.stopTenantRunner(config.name);
        await this.startTenantConfig(config);
        summary.restarted.push(config.name);
      } else {
        summary.unchanged.push(config.name);
      }
    }
    this.rejected = rejected;
    return summary;
  }

  /** Starts a stopped or failed tenant again, from its current file. */
  async startTenant(name: string): Promise<TenantStatus> {
    const existing = this.tenants.get(name);
    if (existing && (existing.state === "running" || existing.state === "starting")) {
      throw new ControlError("EBUSY", `tenant ${name} is already ${existing.state}`);
    }
    const { accepted, rejected } = this.load();
    const config = accepted.find((t) => t.name === name);
    if (!config) {
      const why = rejected.find((r) => r.name === name);
      throw new ControlError(why ? "EINVAL" : "ENOENT", why ? `tenant ${name} has an invalid config: ${why.errors.join("; ")}` : `no tenant file defines "${name}" in ${this.host.tenantsDir}`);
    }
    if (existing) await this.stopTenantRunner(name);
    await this.startTenantConfig(config);
    return this.tenantStatus(this.tenants.get(name)!);
  }

  /** Stops one tenant (it stays listed as stopped until reload or start-tenant). */
  async stopTenant(name: string): Promise<TenantStatus> {
    const runner = this.runner(name);
    await runner.stop();
    return this.tenantStatus(runner);
  }

  /** Carries out one fault order against exactly one service process of one tenant. */
  async fault(order: FaultRequest): Promise<{ tenant: string; service: string; pid: number | null; fault: string }> {
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
      if (r.name && this.tenants.has(r.name)) {
        known.find((t) => t.name === r.name)!.errors.push(...r.errors.map((e) => `not reloaded: ${e}`));
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
        // Answer first; the caller of the supervisor decides how to exit once shutdown() resolves.
        setTimeout(() => void this.shutdown(), 0);
        return { stopping: [...this.startOrder].reverse() };
    }
  }

  /** Stops every tenant in reverse start order, then removes the pools. Idempotent; resolves when everything is gone. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.watchdog) clearInterval(this.watchdog);
      for (const name of [...this.startOrder].reverse()) await this.stopTenantRunner(name);
      await this.pools.removeAll();
      this.events.emit("supervisor:stopped");
    })();
    return this.stopping;
  }
}
