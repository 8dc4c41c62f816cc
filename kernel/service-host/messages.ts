/** @module messages — the control messages between the supervisor and a service process (Bun IPC), declared once as valibot schemas. */
import * as v from "valibot";

/** Faults a service process carries out itself (kill and crash-loop are done by the supervisor). */
export const IN_PROCESS_FAULTS = ["hang", "slow", "oom", "exit"] as const;

/** Supervisor → service. */
export const ToServiceSchema = v.variant("type", [
  v.object({ type: v.literal("ping"), id: v.number() }),
  v.object({
    type: v.literal("fault"),
    kind: v.picklist(IN_PROCESS_FAULTS),
    latencyMs: v.optional(v.number()),
    durationMs: v.optional(v.number()),
    code: v.optional(v.number()),
    limitBytes: v.optional(v.number()),
  }),
]);
/** A message the supervisor sends a service. */
export type ToService = v.InferOutput<typeof ToServiceSchema>;

/** Service → supervisor. */
export const FromServiceSchema = v.variant("type", [
  v.object({ type: v.literal("ready"), services: v.array(v.string()) }),
  v.object({ type: v.literal("pong"), id: v.number() }),
  v.object({ type: v.literal("error"), message: v.string() }),
]);
/** A message a service sends the supervisor. */
export type FromService = v.InferOutput<typeof FromServiceSchema>;

/** Exit code of a service told to crash at start (crash-loop fault) or crashing on purpose. */
export const CRASH_EXIT_CODE = 70;
/** Exit code of a service whose `oom` fault was not stopped by a pool memory limit (pools unavailable). */
export const OOM_UNENFORCED_EXIT_CODE = 71;

/** Environment a service process is started with. */
export const ENV = {
  tenantConfig: "DANAUS_TENANT_CONFIG",
  services: "DANAUS_SERVICES",
  heartbeatFile: "DANAUS_HEARTBEAT_FILE",
  heartbeatSlot: "DANAUS_HEARTBEAT_SLOT",
  heartbeatMs: "DANAUS_HEARTBEAT_MS",
  supervisorPid: "DANAUS_SUPERVISOR_PID",
  crashAtStart: "DANAUS_FAULT_CRASH_AT_START",
  instance: "DANAUS_INSTANCE",
  runDir: "DANAUS_RUN_DIR",
} as const;
