/** @module client-files — whole-file reads and writes through an application's client, for the topology tests. */
import { constants } from "node:fs";
import type { DanausClient } from "../../../shims/ts/index.ts";

/** The whole text of `path` (up to 4 KiB) read through `client`. */
export function readText(client: DanausClient, path: string): string {
  const fd = client.open(path, constants.O_RDONLY, 0);
  try {
    const into = new Uint8Array(4096);
    return new TextDecoder().decode(into.subarray(0, client.pread(fd, into, 0)));
  } finally {
    client.close(fd);
  }
}

/** Writes `text` as the whole of `path` through `client` (created 0644 when missing). */
export function writeText(client: DanausClient, path: string, text: string): void {
  const fd = client.open(path, constants.O_CREAT | constants.O_WRONLY | constants.O_TRUNC, 0o644);
  try {
    client.write(fd, text);
  } finally {
    client.close(fd);
  }
}
