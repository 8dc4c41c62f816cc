/** @module service-host — what a service process needs from the kernel: its boot loop, context and the control-message formats. */
export { runServiceProcess, type ServiceContext, type ServiceDefinition, type ServiceInstance, type ServiceRuntime } from "./run.ts";
export { FaultState } from "./faults.ts";
export {
  CRASH_EXIT_CODE,
  ENV,
  FromServiceSchema,
  IN_PROCESS_FAULTS,
  OOM_UNENFORCED_EXIT_CODE,
  ToServiceSchema,
  type FromService,
  type ToService,
} from "./messages.ts";
export { publishStats, readStats, type PublishedStats, type ServiceStats } from "./stats-file.ts";
