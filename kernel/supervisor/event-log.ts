/** @module event-log — turns supervisor events into structured log lines (tenant, service, pid, reason). */
import type { Logger } from "../log/index.ts";
import type { SupervisorEmitter } from "./events.ts";

/** Logs every supervisor event at a level that matches its severity. */
export function attachEventLog(events: SupervisorEmitter, log: Logger): void {
  events.on("service:started", (e) => log.info("service started", e));
  events.on("service:exited", (e) => (e.reason === "shutdown" || e.reason === "normal" ? log.info : log.warn).call(log, "service exited", e));
  events.on("service:restarting", (e) => log.info("service restarting", e));
  events.on("service:restarted", (e) => log.info("service restarted", e));
  events.on("service:hung", (e) => log.error("service hung: killed", e));
  events.on("service:fault", (e) => log.warn("fault injected", e));
  events.on("tenant:started", (e) => log.info("tenant started", e));
  events.on("tenant:stopped", (e) => log.info("tenant stopped", e));
  events.on("tenant:failed", (e) => log.error("tenant failed", e));
  events.on("tenant:rejected", (e) => log.error("tenant not started: invalid config", e));
  events.on("pool:unavailable", (e) => log.warn("pools unavailable: tenants run unpinned, without memory limits", e));
}
