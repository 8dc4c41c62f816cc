/** @module unit — one service process of a tenant (a process group of the topology): spawn, ready, heartbeat watch, stop. */
import type { Subprocess } from "bun";
import * as v from "valibot";
import type { ServiceName, TenantConfig } from "../config/index.ts";
import type { HeartbeatSlot } from "../heartbeat/index.ts";
import type { Logger } from "../log/index.ts";
import type { Pool } from "../pool/index.ts";
import type { TenantPaths } from "./paths.ts";
import { ENV, FromServiceSchema, type ToService } from "../service-host/index.ts";
import { entryPoint } from "../../services/registry.ts";

/** Lifecycle of a service process. */
export type UnitState = "stopped" | "starting" | "running" | "stopping" | "backoff" | "failed";

/** How the unit ended, as the unit itself observed it (classification happens in restart-policy). */
export interface UnitExit {
  code: number | null;
  signal: string | null;
  hung: boolean;
  startTimeout: boolean;
  stopping: boolean;
  oomKilled: boolean;
}

/** Settings a unit needs from the host config. */
export interface UnitTiming {
  heartbeatMs: number;
  hungAfterMs: number;
  startTimeoutMs: number;
}

/** One process running one or more services of a tenant. */
export class ServiceUnit {
  /** "union", or "client-cache+union+ipc-router" for a group. */
  readonly name: string;
  state: UnitState = "stopped";
  pid: number | null = null;
  startedAt: number | null = null;
  restarts = 0;
  /** Timestamps of the restarts inside the current intensity window. */
  restartTimes: number[] = [];
  lastExit: { reason: string; at: number } | null = null;
  /** Starts left that must crash at start (crash-loop fault). */
  crashStartsLeft = 0;
  /** Timer of a pending restart (state backoff). */
  restartTimer: ReturnType<typeof setTimeout> | null = null;

  private proc: Subprocess | null = null;
  private exitSeen: Promise<UnitExit> | null = null;
  private flags = { hung: false, startTimeout: false, stopping: false };
  private oomBefore = 0;
  private beatCount = -1;
  private beatChangedAt = 0;
  private readyWaiter: ((ok: boolean) => void) | null = null;
  private pingWaiters = new Map<number, (ok: boolean) => void>();
  private nextPing = 1;

  constructor(
    readonly services: ServiceName[],
    private readonly tenant: TenantConfig,
    private readonly pool: Pool,
    readonly heartbeat: HeartbeatSlot,
    private readonly paths: TenantPaths,
    /** argv prefix that starts the process as the tenant's user (empty: the supervisor's user). */
    private readonly launcher: string[],
    private readonly timing: UnitTiming,
    private readonly log: Logger,
  ) {
    this.name = services.join("+");
  }

  /**
   * Spawns the process inside the tenant's pool. `onExit` is called once when it ends, with what the unit saw.
   * Resolves true once the process reports ready, false if it ended or timed out first.
   */
  spawn(onExit: (exit: UnitExit) => void): Promise<boolean> {
    this.flags = { hung: false, startTimeout: false, stopping: false };
    this.oomBefore = this.pool.oomKills();
    this.heartbeat.reset();
    this.beatCount = -1;
    const crashAtStart = this.crashStartsLeft > 0;
    if (crashAtStart) this.crashStartsLeft--;
    // Placement first (as root), then the drop to the tenant's user, then Bun: nothing of ours runs outside either.
    const argv = this.pool.wrap([...this.launcher, process.execPath, entryPoint(this.services[0]!)]);
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      [ENV.tenantConfig]: JSON.stringify(this.tenant),
      [ENV.services]: this.services.join(","),
      [ENV.heartbeatFile]: this.paths.heartbeatFile,
      [ENV.instance]: this.paths.instance,
      [ENV.runDir]: this.paths.runDir,
      [ENV.heartbeatSlot]: String(this.heartbeat.index),
      [ENV.heartbeatMs]: String(this.timing.heartbeatMs),
      [ENV.supervisorPid]: String(process.pid),
      [ENV.crashAtStart]: crashAtStart ? "1" : "0",
    };
    const ready = new Promise<boolean>((resolve) => (this.readyWaiter = resolve));
    this.state = "starting";
    this.startedAt = Date.now();
    const proc = Bun.spawn(argv, {
      env,
      stdio: ["ignore", "inherit", "inherit"],
      ipc: (message) => this.onMessage(message),
      serialization: "json",
    });
    this.proc = proc;
    this.pid = proc.pid;
    this.exitSeen = proc.exited.then(() => {
      const exit: UnitExit = {
        code: proc.exitCode,
        signal: proc.signalCode === null ? null : String(proc.signalCode),
        ...this.flags,
        oomKilled: this.pool.oomKills() > this.oomBefore,
      };
      this.proc = null;
      this.resolveReady(false);
      for (const waiter of this.pingWaiters.values()) waiter(false);
      this.pingWaiters.clear();
      onExit(exit);
      return exit;
    });
    return ready;
  }

  private resolveReady(ok: boolean): void {
    const waiter = this.readyWaiter;
    this.readyWaiter = null;
    waiter?.(ok);
  }

  private onMessage(raw: unknown): void {
    const parsed = v.safeParse(FromServiceSchema, raw);
    if (!parsed.success) {
      this.log.warn("malformed message from service ignored", { issue: parsed.issues[0].message });
      return;
    }
    const message = parsed.output;
    switch (message.type) {
      case "ready":
        if (this.state === "starting") this.state = "running";
        this.beatChangedAt = performance.now();
        this.resolveReady(true);
        return;
      case "pong": {
        const waiter = this.pingWaiters.get(message.id);
        this.pingWaiters.delete(message.id);
        waiter?.(true);
        return;
      }
      case "error":
        this.log.warn("service reported an error", { error: message.message });
        return;
    }
  }

  /**
   * One watchdog tick. Kills the process (SIGKILL) when it has been silent past `hungAfterMs` while running, or has
   * not reported ready within `startTimeoutMs`. Returns how long it was silent when it was killed as hung, else null.
   */
  watch(now: number): number | null {
    if (!this.proc) return null;
    if (this.state === "starting") {
      if (this.startedAt !== null && Date.now() - this.startedAt > this.timing.startTimeoutMs) {
        this.flags.startTimeout = true;
        this.proc.kill("SIGKILL");
      }
      return null;
    }
    if (this.state !== "running") return null;
    const count = this.heartbeat.count;
    if (count !== this.beatCount) {
      this.beatCount = count;
      this.beatChangedAt = now;
      return null;
    }
    const silent = now - this.beatChangedAt;
    if (silent <= this.timing.hungAfterMs) return null;
    this.flags.hung = true;
    this.proc.kill("SIGKILL");
    return silent;
  }

  /** Sends a control message; false if the process is not there. */
  send(message: ToService): boolean {
    if (!this.proc) return false;
    this.proc.send(message);
    return true;
  }

  /** Round trip of a ping in ms, or null if the process did not answer within `timeoutMs`. */
  async ping(timeoutMs: number): Promise<number | null> {
    if (!this.proc || this.state !== "running") return null;
    const id = this.nextPing++;
    const started = performance.now();
    const answered = new Promise<boolean>((resolve) => this.pingWaiters.set(id, resolve));
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs));
    this.proc.send({ type: "ping", id } satisfies ToService);
    const ok = await Promise.race([answered, timeout]);
    this.pingWaiters.delete(id);
    return ok ? performance.now() - started : null;
  }

  /** SIGKILLs the process now (the `kill` fault); it is restarted as a crash. */
  kill(): boolean {
    if (!this.proc) return false;
    this.proc.kill("SIGKILL");
    return true;
  }

  /** Stops the process: SIGTERM, wait `shutdownMs`, then SIGKILL. Cancels a pending restart. Resolves when it is gone. */
  async stop(shutdownMs: number): Promise<void> {
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
    }
    const proc = this.proc;
    if (!proc) {
      if (this.state !== "failed") this.state = "stopped";
      return;
    }
    this.flags.stopping = true;
    this.state = "stopping";
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), shutdownMs);
    await this.exitSeen;
    clearTimeout(timer);
    this.state = "stopped";
  }
}
