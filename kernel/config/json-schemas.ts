/** @module json-schemas — JSON Schemas of the host config and tenant files, for editors and `danaus schema`. */
import { toJsonSchema } from "@valibot/to-json-schema";
import { HostFileSchema, TenantFileSchema } from "./schema.ts";

/**
 * Returns JSON Schema (draft-07) documents describing the host config and a tenant file as written (input types:
 * sizes are strings or numbers). Checks a JSON Schema cannot express (cross-field, cross-tenant) are left out.
 * Each call returns fresh objects the caller may modify.
 */
export function jsonSchemas(): { host: Record<string, unknown>; tenant: Record<string, unknown> } {
  const convert = (schema: typeof HostFileSchema | typeof TenantFileSchema) =>
    toJsonSchema(schema, { errorMode: "ignore", typeMode: "input" }) as Record<string, unknown>;
  return {
    host: {
      ...convert(HostFileSchema),
      $id: "urn:danaus:config:host",
      title: "danaus host config",
      description: "The supervisor's host config (TOML): state and tenant directories, control socket, timings, and [defaults] for every tenant.",
    },
    tenant: {
      ...convert(TenantFileSchema),
      $id: "urn:danaus:config:tenant",
      title: "danaus tenant file",
      description: "One tenant (TOML, named <name>.toml): its cores, memory, backend, cache, mounts, FUSE settings, service topology and restart policy.",
    },
  };
}
