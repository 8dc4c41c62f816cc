/** @module control — the supervisor's control socket: protocol, server and client. */
export { ControlError, FAULT_KINDS, MAX_REQUEST_BYTES, RequestSchema, type FaultKind, type FaultRequest, type Reply, type Request } from "./protocol.ts";
export { ControlServer, SocketInUseError, type Handler } from "./server.ts";
export { ControlUnreachableError, request } from "./client.ts";
