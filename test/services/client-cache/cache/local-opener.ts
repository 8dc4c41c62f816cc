/** @module test/services/client-cache/cache/local-opener — the backend opener the write-back thread test gives its Worker. */
import { LocalBackend } from "../../../../services/client-cache/backend/index.ts";
import type { FileSystem } from "../../../../kernel/ipc/protocol/index.ts";

/** Opens a LocalBackend over `spec.root`. */
export function openBackend(spec: { root: string }): FileSystem {
  return new LocalBackend(spec.root);
}
