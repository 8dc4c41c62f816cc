/** @module fingerprint.test — reload's change detection. */
import { describe, expect, test } from "bun:test";
import { resolveTenant, tenantFingerprint, type TenantConfig } from "../../../kernel/config/index.ts";
import { hostAt } from "./fixture.ts";

const make = (): TenantConfig => resolveTenant({ name: "alpha", cpus: [0, 1], backend: { kind: "local", root: "a" } }, "/d/tenants/alpha.toml", hostAt("/d"), {});

describe("tenantFingerprint", () => {
  test("equal for equal configs, whatever the key order", () => {
    const a = make();
    const { restart, name, ...rest } = make();
    const reordered = { restart: { ...restart, services: Object.fromEntries(Object.entries(restart.services).reverse()) }, ...rest, name } as TenantConfig;
    expect(tenantFingerprint(a)).toBe(tenantFingerprint(make()));
    expect(tenantFingerprint(reordered)).toBe(tenantFingerprint(a));
  });

  test("different after a change, deep or shallow", () => {
    const a = make();
    const b = make();
    b.cache.expireMs += 1;
    const c = make();
    c.cpus = [0, 2];
    const d = make();
    d.restart.services.union = "temporary";
    const fingerprints = new Set([a, b, c, d].map(tenantFingerprint));
    expect(fingerprints.size).toBe(4);
  });

  test("is JSON", () => {
    expect(JSON.parse(tenantFingerprint(make())).name).toBe("alpha");
  });
});
