/** @module legacy-tenant — a tenant file for the load tests: one core, one data mount served on both paths (`legacy = true`). */

/** What differs between the load tests' tenants. */
export interface LegacyTenant {
  readonly name: string;
  readonly cpu: number;
  /** The mount point (a FUSE mount, and the client's mount path). */
  readonly mount: string;
  readonly memory: string;
  /** The `[cache]` size, e.g. "32MiB". */
  readonly cacheSize: string;
  /** `"async"` (the default) or `"sync"`: with sync, a write acknowledged before a crash is never lost. */
  readonly writeback?: "async" | "sync";
  /** A `topology = …` line; the default topology without it. */
  readonly topology?: string;
}

/** The tenant file's text: local backend `backends/<name>`, mount source `data`, served through FUSE too. */
export function legacyTenantToml(t: LegacyTenant): string {
  return [
    `name = "${t.name}"`,
    `cpus = [${t.cpu}]`,
    `memory = "${t.memory}"`,
    `shareCpus = true`,
    ...(t.topology ? [t.topology] : []),
    `[backend]`,
    `kind = "local"`,
    `root = "backends/${t.name}"`,
    `[cache]`,
    `size = "${t.cacheSize}"`,
    `writeback = "${t.writeback ?? "async"}"`,
    `[[mounts]]`,
    `path = ${JSON.stringify(t.mount)}`,
    `source = "data"`,
    `legacy = true`,
  ].join("\n");
}
