/** @module json-schemas.test — the JSON Schemas written by `danaus schema`. */
import { describe, expect, test } from "bun:test";
import { jsonSchemas } from "../../../kernel/config/index.ts";

describe("jsonSchemas", () => {
  const { host, tenant } = jsonSchemas();
  const props = (s: Record<string, unknown>) => s.properties as Record<string, Record<string, unknown>>;

  test("the tenant schema lists every tenant field and forbids others", () => {
    expect(Object.keys(props(tenant))).toEqual(["name", "cpus", "shareCpus", "uid", "gid", "memory", "backend", "cache", "mounts", "fuse", "maxDirStreams", "heldRequestMs", "topology", "restart"]);
    expect(tenant.required).toEqual(["name", "cpus", "backend"]);
    expect(tenant.additionalProperties).toBe(false);
    expect(tenant.$id).toBe("urn:danaus:config:tenant");
    expect(typeof tenant.title).toBe("string");
    expect(typeof tenant.description).toBe("string");
  });

  test("the host schema lists the host fields and the defaults table", () => {
    expect(Object.keys(props(host))).toEqual(["instance", "stateDir", "tenantsDir", "controlSocket", "heartbeatMs", "hungAfterMs", "startTimeoutMs", "defaults"]);
    expect(Object.keys(props(host).defaults!.properties as object)).toEqual(["shareCpus", "memory", "cache", "fuse", "maxDirStreams", "heldRequestMs", "topology", "restart"]);
    expect(host.$id).toBe("urn:danaus:config:host");
    expect(typeof host.title).toBe("string");
  });

  test("sizes are strings or numbers; nested tables are described", () => {
    expect(JSON.stringify(props(tenant).memory)).toContain('"type":"string"');
    expect(Object.keys(props(tenant).cache!.properties as object)).toEqual(["size", "maxDirty", "blockSize", "writebackMs", "expireMs", "writeback"]);
    expect(JSON.stringify(props(tenant).backend)).toContain('"const":"cephfs"');
  });

  test("returns fresh serializable objects", () => {
    expect(jsonSchemas().host).not.toBe(host);
    expect(JSON.parse(JSON.stringify(tenant))).toEqual(tenant);
  });
});
