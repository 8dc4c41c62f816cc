/**
 * @module fifo-node — the open reply payload for a FIFO: the service never carries a pipe's data nor waits for its
 * partner; it answers with an O_PATH descriptor of the FIFO in its own process, which the client reopens with its own
 * flags through `/proc/<pid>/fd/<fd>` (blocking exactly as the kernel's open of a FIFO does) and then reads and writes
 * through the kernel. An open reply without payload is a file the service serves.
 */
import { defineStruct } from "./struct.ts";

/** Layout of the FIFO reply payload of `open` (8 bytes). */
export const FIFO_NODE = defineStruct("danaus_fifo_node", "open reply for a FIFO: reopen /proc/<pid>/fd/<fd> with the caller's flags", [
  { name: "pid", type: "u32", offset: 0, doc: "the service process holding the node" },
  { name: "fd", type: "i32", offset: 4, doc: "its O_PATH descriptor of the FIFO, valid until the service descriptor is closed" },
]);

/** A decoded FIFO reply. */
export type FifoNode = ReturnType<typeof FIFO_NODE.read>;

/** The path a client opens to reach the FIFO `node` names. */
export function fifoNodePath(node: FifoNode): string {
  return `/proc/${node.pid}/fd/${node.fd}`;
}
