/** @module pool/pool-error — the one error type the pool manager throws for host-side failures. */

/** A pool could not be made, configured or removed. `path` is the cgroup file or directory involved. */
export class PoolError extends Error {
  override readonly name = "PoolError";
  /** Tenant whose pool failed ("" for instance-wide directories). */
  readonly tenant: string;
  /** The cgroupfs file or directory the failing operation was on. */
  readonly path: string;
  /** The errno code of the underlying failure ("EBUSY", "EINVAL", ...), or null when none applies. */
  readonly code: string | null;

  constructor(message: string, fields: { tenant: string; path: string; code?: string | null; cause?: unknown }) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.tenant = fields.tenant;
    this.path = fields.path;
    this.code = fields.code ?? null;
  }
}

/** The errno code of a node:fs error, or null. */
export function errnoCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : null;
}
