/** @module service-thread-main — Worker entry of a ring server's service thread: waits for its init message, then serves. */
import { runServiceThread, type AttachMounts, type ServiceThreadInit } from "./service-thread.ts";

declare const self: Worker;

self.onmessage = async (event: MessageEvent<ServiceThreadInit>) => {
  self.onmessage = null;
  const init = event.data;
  const { attachMounts } = (await import(init.served.module)) as { attachMounts: AttachMounts };
  runServiceThread(init, attachMounts, (message) => self.postMessage(message));
};
