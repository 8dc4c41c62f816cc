/** Tests for kernel/ipc/protocol/errno.ts: one errno table, Linux x86-64 values, both directions. */
import { describe, expect, test } from "bun:test";
import { constants } from "node:os";
import { describeResult, ERRNO, ERRNO_ALIASES, errnoName, errnoNumber } from "../../../../kernel/ipc/protocol/errno.ts";

describe("errno table", () => {
  test("every entry has the host's (Linux x86-64) number", () => {
    const host = constants.errno as Record<string, number>;
    let compared = 0;
    for (const [name, value] of Object.entries(ERRNO)) {
      if (host[name] === undefined) continue;
      expect<[string, number]>([name, value]).toEqual([name, host[name]!]);
      compared++;
    }
    expect(compared).toBeGreaterThan(60);
  });

  test("numbers are unique, so number → name is a function", () => {
    const values = Object.values(ERRNO);
    expect(new Set(values).size).toBe(values.length);
  });

  test("spot values used on the wire", () => {
    expect([ERRNO.ENOENT, ERRNO.EBADF, ERRNO.EINVAL, ERRNO.ENOSYS, ERRNO.ENOTCONN, ERRNO.ENOTEMPTY]).toEqual([2, 9, 22, 38, 107, 39]);
  });
});

describe("lookups", () => {
  test("name ↔ number, with the sign of a result ignored", () => {
    expect(errnoName(2)).toBe("ENOENT");
    expect(errnoName(-38)).toBe("ENOSYS");
    expect(errnoName(9999)).toBeUndefined();
    expect(errnoNumber("EEXIST")).toBe(17);
    expect(errnoNumber("ENOPE")).toBeUndefined();
    expect(errnoNumber("toString")).toBeUndefined();
  });

  test("aliases resolve to the canonical number and never come back as names", () => {
    for (const [alias, canonical] of Object.entries(ERRNO_ALIASES)) {
      expect(errnoNumber(alias)).toBe(ERRNO[canonical]);
      expect(errnoName(ERRNO[canonical])).toBe(canonical);
    }
  });

  test("describeResult", () => {
    expect(describeResult(5)).toBe("ok 5");
    expect(describeResult(-13)).toBe("EACCES");
    expect(describeResult(-999)).toBe("errno 999");
  });
});
