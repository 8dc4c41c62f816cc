/**
 * @module unmount-worker — the entry of a Worker that unmounts and releases one libcephfs client while the thread
 * that started it unmounts another (see `unmountElsewhere` in mount.ts). Load it only as a Worker.
 */
import { UNMOUNT_CELL, unmountClient, type UnmountRequest } from "./mount.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<UnmountRequest>) => {
  const cell = new Int32Array(event.data.cell);
  const { STATE, RESULT, NOT_STARTED, UNMOUNTING, DONE } = UNMOUNT_CELL;
  // The starter may have given up waiting and unmounted the client itself.
  if (Atomics.compareExchange(cell, STATE, NOT_STARTED, UNMOUNTING) !== NOT_STARTED) return;
  Atomics.store(cell, RESULT, unmountClient(event.data.cmount));
  Atomics.store(cell, STATE, DONE);
  Atomics.notify(cell, STATE);
};
