/** @module fuse-links-opener — the opener the node-identity benchmark's serving Workers call: a LocalBackend over `spec.root`. */
import { LocalBackend } from "../services/client-cache/backend/index.ts";
import type { FileSystem } from "../kernel/ipc/protocol/index.ts";

/** A LocalBackend over `spec.root`. */
export function openFileSystem(spec: { root: string }): FileSystem {
  return new LocalBackend(spec.root);
}
