/** @module run — the child side of supervision: boots a service process, beats its heartbeat, obeys control messages. */
import * as v from "valibot";
import type { ServiceName, TenantConfig } from "../config/index.ts";
import { HeartbeatRegion, startBeating } from "../heartbeat/index.ts";
import { Logger, rootLogger } from "../log/index.ts";
import { setParentDeathSignal } from "../sys/libc.ts";
import { applyFault, FaultState } from "./faults.ts";
import { CRASH_EXIT_CODE, ENV, type FromService, ToServiceSchema } from "./messages.ts";

/** What a service gets when it starts. */
export interface ServiceContext {
  /** The tenant it serves, fully resolved. */
  readonly tenant: TenantConfig;
  /** A logger bound to tenant, service and pid. */
  readonly log: Logger;
  /** Injected faults; request handlers add `faults.latencyMs()` to every request. */
  readonly faults: FaultState;
  /** Where this tenant's runtime files live. */
  readonly runtime: ServiceRuntime;
}

/** Runtime locations the supervisor gives a tenant's services. */
export interface ServiceRuntime {
  /** The supervisor instance (names shared-memory files: /dev/shm/danaus.<instance>.<tenant>.*). */
  readonly instance: string;
  /** A private (0700) directory for the tenant's sockets, removed when the tenant stops. */
  readonly runDir: string;
  /** Prefix of the tenant's shared-memory files; the supervisor removes every file with it when the tenant stops. */
  readonly shmPrefix: string;
}

/** A running service. */
export interface ServiceInstance {
  /** Releases what the service holds; called on SIGTERM, in reverse start order. */
  stop?(): void | Promise<void>;
}

/** A service as the process host sees it: a name and how to start it. */
export interface ServiceDefinition {
  readonly name: ServiceName;
  start(ctx: ServiceContext): ServiceInstance | Promise<ServiceInstance>;
}

const SIGKILL = 9;

function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    rootLogger.error("service started without its environment; services are started by the supervisor", { missing: name });
    process.exit(2);
  }
  return value;
}

function send(message: FromService): void {
  process.send?.(message);
}

/**
 * Runs the services named in the environment (or `fallback`) in this process, in order, until the supervisor stops it.
 * `load` maps a service name to its definition.
 */
export async function runServiceProcess(fallback: ServiceName, load: (name: ServiceName) => Promise<ServiceDefinition>): Promise<void> {
  const supervisorPid = Number(requireEnv(ENV.supervisorPid));
  const tenant = JSON.parse(requireEnv(ENV.tenantConfig)) as TenantConfig;
  const names = (process.env[ENV.services] ?? fallback).split(",") as ServiceName[];
  const log = rootLogger.child({ tenant: tenant.name, service: names.join("+") });
  // Nodes the services create get exactly the mode their caller asked for: the kernel (FUSE without DONT_MASK) or
  // the client library has already applied the calling program's umask, so a second one here would be wrong. Every
  // other file these processes create (region, sockets, stats, mount points) is given an explicit mode.
  process.umask(0);

  // Die with the supervisor even when our event loop is blocked (a hung service never sees the IPC disconnect).
  if (!setParentDeathSignal(SIGKILL, supervisorPid)) {
    log.error("supervisor already gone at start; exiting");
    process.exit(1);
  }
  process.on("disconnect", () => {
    log.warn("supervisor channel closed; exiting");
    process.exit(1);
  });

  if (process.env[ENV.crashAtStart] === "1") {
    log.warn("crash-loop fault: crashing at start");
    process.exit(CRASH_EXIT_CODE);
  }

  const region = HeartbeatRegion.open(requireEnv(ENV.heartbeatFile));
  const stopBeating = startBeating(region.slot(Number(requireEnv(ENV.heartbeatSlot))), Number(requireEnv(ENV.heartbeatMs)));

  const faults = new FaultState();
  const instance = requireEnv(ENV.instance);
  const runtime: ServiceRuntime = { instance, runDir: requireEnv(ENV.runDir), shmPrefix: `/dev/shm/danaus.${instance}.${tenant.name}.` };
  const running: { name: ServiceName; instance: ServiceInstance }[] = [];
  for (const name of names) {
    const definition = await load(name);
    running.push({ name, instance: await definition.start({ tenant, log: log.child({ service: name }), faults, runtime }) });
  }

  process.on("message", (raw: unknown) => {
    const parsed = v.safeParse(ToServiceSchema, raw);
    if (!parsed.success) {
      log.warn("malformed control message ignored", { issue: parsed.issues[0].message });
      return send({ type: "error", message: `malformed control message: ${parsed.issues[0].message}` });
    }
    const message = parsed.output;
    if (message.type === "ping") {
      const delay = faults.latencyMs();
      if (delay > 0) setTimeout(() => send({ type: "pong", id: message.id }), delay);
      else send({ type: "pong", id: message.id });
      return;
    }
    applyFault(message, faults, log);
  });

  let stopping = false;
  process.on("SIGTERM", async () => {
    if (stopping) return;
    stopping = true;
    stopBeating();
    for (const { name, instance } of running.reverse()) {
      try {
        await instance.stop?.();
      } catch (error) {
        log.error("service stop failed", { stopped: name, error });
      }
    }
    log.info("stopped");
    process.exit(0);
  });

  log.info("ready", { services: names });
  send({ type: "ready", services: names });
}
