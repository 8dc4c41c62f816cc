/** @module supervisor — the kernel of danaus: tenants, pools, service processes, restart policy, events and status. */
export { Supervisor, type ReloadSummary } from "./supervisor.ts";
export { SupervisorEmitter, type SupervisorEvents } from "./events.ts";
export { renderStatusTable, type ServiceStatus, type TenantStatus } from "./status.ts";
export * as restartPolicy from "./restart-policy.ts";
