/** @module ipc-worker — a client thread of `bench ipc`: runs one driver request and posts its result. */
import { drive, type DriveRequest } from "./ipc-driver.ts";

declare const self: Worker;
self.onmessage = (event: MessageEvent<DriveRequest>) => {
  self.postMessage(drive(event.data));
};
