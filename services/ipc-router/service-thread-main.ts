/** @module service-thread-main — Worker entry of a router service thread: waits for its init message, then serves. */
import { runServiceThread, type ServiceThreadInit } from "./service-thread.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<ServiceThreadInit>) => {
  self.onmessage = null;
  runServiceThread(event.data, (message) => self.postMessage(message));
};
