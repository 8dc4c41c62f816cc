/** @module private-socket — a Unix socket only its owner may connect to: created under umask 077, then mode 0600. */
import { chmodSync, rmSync } from "node:fs";
import type { SocketHandler, UnixSocketListener } from "bun";

/** Listens on `path` (a stale file there is replaced) with mode 0600 from the first moment. */
export function listenPrivate<T>(path: string, socket: SocketHandler<T>): UnixSocketListener<T> {
  rmSync(path, { force: true });
  const previousMask = process.umask(0o077);
  try {
    const listener = Bun.listen<T>({ unix: path, socket });
    chmodSync(path, 0o600);
    return listener;
  } finally {
    process.umask(previousMask);
  }
}
