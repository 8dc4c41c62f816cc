/** @module events — the supervisor's typed events; logs and `status` are fed from them. */
import EventEmitter from "eventemitter3";

/** A service process event: which tenant, which process group ("union" or "client-cache+union"), which pid. */
export interface ServiceEvent {
  tenant: string;
  service: string;
  pid: number;
}

/** Every event the supervisor emits, with its payload. */
export interface SupervisorEvents {
  "service:started": (event: ServiceEvent) => void;
  "service:exited": (event: ServiceEvent & { reason: string; willRestart: boolean }) => void;
  "service:restarting": (event: { tenant: string; service: string; delayMs: number; attempt: number }) => void;
  "service:restarted": (event: ServiceEvent & { restarts: number }) => void;
  "service:hung": (event: ServiceEvent & { silentMs: number }) => void;
  "service:fault": (event: ServiceEvent & { fault: string }) => void;
  "tenant:started": (event: { tenant: string; cpus: number[]; pool: string }) => void;
  "tenant:stopped": (event: { tenant: string }) => void;
  "tenant:failed": (event: { tenant: string; reason: string }) => void;
  "tenant:rejected": (event: { tenant?: string; file: string; errors: string[] }) => void;
  "pool:unavailable": (event: { reason: string }) => void;
  "supervisor:stopped": () => void;
}

/** The supervisor's event emitter. */
export class SupervisorEmitter extends EventEmitter<SupervisorEvents> {}
