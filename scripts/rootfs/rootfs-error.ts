/** @module scripts/rootfs/rootfs-error — the one error a root-tree build throws, with what went wrong and where. */

/** Why a build failed: a host path or package is missing, a symlink loop, a non-empty target, or a host tool failed. */
export type RootfsErrorKind = "not-found" | "loop" | "exists" | "tool";

/** A root-tree build that could not finish; `path` names the host path, package or target directory concerned. */
export class RootfsError extends Error {
  override readonly name = "RootfsError";
  constructor(readonly kind: RootfsErrorKind, readonly path: string, readonly reason: string) {
    super(`rootfs: ${path}: ${reason}`);
  }
}
