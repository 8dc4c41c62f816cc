/** @module tenant — one tenant's pool and service processes, restarted by its OTP-style policy. */
import type { ServiceName, TenantConfig } from "../config/index.ts";
import { HeartbeatRegion } from "../heartbeat/index.ts";
import type { Logger } from "../log/index.ts";
import { PLACEMENT_FAILED_EXIT, type Pool, type PoolManager } from "../pool/index.ts";
import type { SupervisorEmitter } from "./events.ts";
import { affectedUnits, backoffMs, classifyExit, decide, describeExit, recordRestart } from "./restart-policy.ts";
import { handOverToTenantUser, userLauncher } from "./tenant-user.ts";
import { detachFuseMounts } from "../sys/mounts.ts";
import { prepareTenantRuntime, removeTenantRuntime, type TenantPaths } from "./paths.ts";
import { ServiceUnit, type UnitExit, type UnitTiming } from "./unit.ts";

/** Start order of the services: the data path from the storage up (see services/tenant-stack.ts), then the front ends. */
const START_ORDER: readonly ServiceName[] = ["client-cache", "union", "ipc-router", "fuse-legacy"];

/** A process group's place in the start order: that of its first service in {@link START_ORDER}. */
export function startRank(services: readonly ServiceName[]): number {
  return Math.min(...services.map((s) => START_ORDER.indexOf(s)));
}

/** Lifecycle of a tenant. */
export type TenantState = "starting" | "running" | "stopping" | "stopped" | "failed";

/** Raised when a fault or ping names a service the tenant does not run. */
export class UnknownServiceError extends Error {
  constructor(readonly tenant: string, readonly service: string, readonly known: string[]) {
    super(`tenant ${tenant} runs no service "${service}" (it runs: ${known.join(", ")})`);
    this.name = "UnknownServiceError";
  }
}

/** Runs one tenant: creates its pool and heartbeat file, starts its processes in order, restarts them, stops them. */
export class TenantRunner {
  state: TenantState = "stopped";
  failedReason: string | null = null;
  readonly units: ServiceUnit[] = [];
  private pool: Pool | null = null;
  private heartbeat: HeartbeatRegion | null = null;
  /** argv prefix that drops to the tenant's user. */
  private launcher: string[] = [];
  private readonly log: Logger;

  constructor(
    readonly config: TenantConfig,
    private readonly pools: PoolManager,
    private readonly paths: TenantPaths,
    private readonly timing: UnitTiming,
    private readonly events: SupervisorEmitter,
    log: Logger,
  ) {
    this.log = log.child({ tenant: config.name });
  }

  /** The tenant's private run directory (sockets, published service counters). */
  get runDir(): string {
    return this.paths.runDir;
  }

  /** Where the pool stands: "cgroup-v1", or why it is unpinned. */
  get poolStatus(): string {
    const support = this.pools.support;
    return support.kind === "unavailable" ? `unpinned (${support.reason})` : support.kind;
  }

  /** Current memory use of the pool in bytes, when known. */
  get memoryUsage(): number | null {
    return this.pool?.memoryUsage() ?? null;
  }

  /** Creates the pool and starts every process (see {@link startRank}), each after the previous one is ready. */
  async start(): Promise<void> {
    this.state = "starting";
    this.failedReason = null;
    try {
      this.pool = this.pools.create({ tenant: this.config.name, cpus: this.config.cpus, memoryBytes: this.config.memoryBytes });
      prepareTenantRuntime(this.paths);
      this.heartbeat = HeartbeatRegion.create(this.paths.heartbeatFile);
      handOverToTenantUser(this.config, this.paths);
      this.launcher = userLauncher(this.config);
    } catch (error) {
      await this.releaseResources();
      this.fail(`could not create the tenant's pool: ${(error as Error).message}`);
      return;
    }
    this.config.topology.forEach((group, index) => {
      const unitLog = this.log.child({ service: group.join("+") });
      this.units.push(new ServiceUnit(group, this.config, this.pool!, this.heartbeat!.slot(index), this.paths, this.launcher, this.timing, unitLog));
    });
    // In start order (restart strategies count on it): from the storage up, since a process that serves from
    // another's channel registers with it as it starts. Heartbeat slots keep the topology's numbering.
    this.units.sort((a, b) => startRank(a.services) - startRank(b.services));
    for (const unit of this.units) {
      if (this.state !== "starting") return;
      await this.launch(unit);
    }
    if (this.state !== "starting") return;
    this.state = "running";
    this.events.emit("tenant:started", { tenant: this.config.name, cpus: this.config.cpus, pool: this.poolStatus });
  }

  private launch(unit: ServiceUnit): Promise<boolean> {
    const ready = unit.spawn((exit) => this.onExit(unit, exit));
    this.events.emit("service:started", { tenant: this.config.name, service: unit.name, pid: unit.pid! });
    return ready;
  }

  private onExit(unit: ServiceUnit, exit: UnitExit): void {
    const reason = classifyExit(exit.code, exit.signal, { ...exit, placementFailedCode: PLACEMENT_FAILED_EXIT });
    const pid = unit.pid!;
    unit.pid = null;
    unit.startedAt = null;
    unit.lastExit = { reason: describeExit(reason), at: Date.now() };
    const policyType = this.restartType(unit);
    const willRestart = (this.state === "running" || this.state === "starting") && decide(reason, policyType) === "restart";
    if (unit.state !== "stopping") unit.state = "stopped";
    this.events.emit("service:exited", { tenant: this.config.name, service: unit.name, pid, reason: unit.lastExit.reason, willRestart });
    if (!willRestart) return;

    const policy = this.config.restart;
    const window = recordRestart(unit.restartTimes, Date.now(), policy.intensity, policy.periodMs);
    unit.restartTimes = window.times;
    if (window.exceeded) {
      void this.failAndStop(`${unit.name} restarted more than ${policy.intensity} times in ${policy.periodMs} ms (last exit: ${unit.lastExit.reason})`);
      return;
    }
    void this.restart(unit, backoffMs(window.times.length, policy.backoffBaseMs, policy.backoffCapMs));
  }

  /** The restart type of a process group: the most persistent type among its services. */
  private restartType(unit: ServiceUnit) {
    const types = unit.services.map((s: ServiceName) => this.config.restart.services[s]);
    return types.includes("permanent") ? "permanent" : types.includes("transient") ? "transient" : "temporary";
  }

  /** Restarts `failed` and whatever the strategy says goes with it, after `delayMs`. Never retries in a busy loop. */
  private async restart(failed: ServiceUnit, delayMs: number): Promise<void> {
    const group = affectedUnits(this.config.restart.strategy, this.units, failed);
    // Stop the siblings the strategy takes down with it, newest first.
    for (const unit of [...group].reverse()) {
      if (unit !== failed) await unit.stop(this.config.restart.shutdownMs);
    }
    for (const unit of group) unit.state = "backoff";
    this.events.emit("service:restarting", { tenant: this.config.name, service: failed.name, delayMs, attempt: failed.restartTimes.length });
    failed.restartTimer = setTimeout(async () => {
      failed.restartTimer = null;
      for (const unit of group) {
        if (this.state !== "running" && this.state !== "starting") return;
        if (unit.state !== "backoff") continue;
        unit.restarts++;
        try {
          await this.launch(unit);
        } catch (error) {
          // Bun.spawn itself failed: count it as a crash on the next turn of the event loop.
          this.log.error("spawn failed", { service: unit.name, error });
          unit.state = "stopped";
          setTimeout(() => this.onExit(unit, { code: -1, signal: null, hung: false, startTimeout: false, stopping: false, oomKilled: false }), 0);
          return;
        }
        this.events.emit("service:restarted", { tenant: this.config.name, service: unit.name, pid: unit.pid ?? 0, restarts: unit.restarts });
      }
    }, delayMs);
  }

  /** One watchdog tick over every process of the tenant. */
  watch(now: number): void {
    for (const unit of this.units) {
      const pid = unit.pid;
      const silent = unit.watch(now);
      if (silent !== null && pid !== null) {
        this.events.emit("service:hung", { tenant: this.config.name, service: unit.name, pid, silentMs: Math.round(silent) });
      }
    }
  }

  /** The process running `service` (a service name, or a group name such as "client-cache+union"). */
  unitOf(service: string): ServiceUnit {
    const unit = this.units.find((u) => u.name === service || u.services.includes(service as ServiceName));
    if (!unit) throw new UnknownServiceError(this.config.name, service, this.units.flatMap((u) => u.services));
    return unit;
  }

  private fail(reason: string): void {
    this.state = "failed";
    this.failedReason = reason;
    this.log.error("tenant failed", { reason });
    this.events.emit("tenant:failed", { tenant: this.config.name, reason });
  }

  private async failAndStop(reason: string): Promise<void> {
    this.fail(reason);
    await this.stopUnits();
    for (const unit of this.units) unit.state = "failed";
    await this.releaseResources();
  }

  private async stopUnits(): Promise<void> {
    for (const unit of [...this.units].reverse()) await unit.stop(this.config.restart.shutdownMs);
  }

  private async releaseResources(): Promise<void> {
    this.heartbeat = null;
    this.detachLegacyMounts();
    removeTenantRuntime(this.paths);
    try {
      await this.pool?.remove();
    } catch (error) {
      this.log.error("could not remove the tenant's pool", { error });
    }
    this.pool = null;
  }

  /**
   * Detaches the FUSE mounts a killed fuse-legacy left dead (ENOTCONN) at the tenant's legacy mount points, so a
   * stopped or failed tenant leaves no mount behind (fuse-legacy unmounts its own when it stops normally).
   */
  private detachLegacyMounts(): void {
    for (const mount of this.config.mounts.filter((m) => m.legacy)) {
      try {
        const detached = detachFuseMounts(mount.path);
        if (detached > 0) this.log.warn("detached the dead FUSE mount fuse-legacy left", { mount: mount.path, detached });
      } catch (error) {
        this.log.error("could not detach a dead FUSE mount", { mount: mount.path, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  /** Stops every process in reverse start order (SIGTERM, shutdownMs, SIGKILL), then removes the pool and heartbeat file. */
  async stop(): Promise<void> {
    const wasFailed = this.state === "failed";
    this.state = "stopping";
    await this.stopUnits();
    await this.releaseResources();
    this.state = wasFailed ? "failed" : "stopped";
    this.events.emit("tenant:stopped", { tenant: this.config.name });
  }
}
