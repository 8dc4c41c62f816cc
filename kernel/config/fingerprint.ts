/** @module fingerprint — a stable text form of a resolved tenant, compared by reload to find changed tenants. */
import type { TenantConfig } from "./types.ts";

/**
 * Returns a string that is equal for two tenants exactly when their resolved configs are equal: JSON with object
 * keys sorted at every level (array order is kept: it is meaningful for cpus, mounts and topology).
 */
export function tenantFingerprint(t: TenantConfig): string {
  return JSON.stringify(sortKeys(t));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort()
        .map((k) => [k, sortKeys(record[k])]),
    );
  }
  return value;
}
