/** @module test/kernel/pool/cpu-list — core id lists to and from the kernel's "0-2,5" syntax. */
import { describe, expect, test } from "bun:test";
import { formatCpuList, parseCpuList } from "../../../kernel/sys/cpu-list.ts";

describe("formatCpuList", () => {
  test("writes single cores, runs and gaps as the kernel does", () => {
    expect(formatCpuList([0])).toBe("0");
    expect(formatCpuList([1])).toBe("1");
    expect(formatCpuList([0, 1])).toBe("0-1");
    expect(formatCpuList([0, 2])).toBe("0,2");
    expect(formatCpuList([8, 7, 0, 1, 2, 5, 2])).toBe("0-2,5,7-8");
  });
});

describe("parseCpuList", () => {
  test("reads what formatCpuList writes, and the empty list", () => {
    expect(parseCpuList("0-2,5,7-8\n")).toEqual([0, 1, 2, 5, 7, 8]);
    expect(parseCpuList("")).toEqual([]);
    expect(parseCpuList(formatCpuList([3, 1, 4]))).toEqual([1, 3, 4]);
  });

  test("rejects malformed text", () => {
    expect(() => parseCpuList("0-a")).toThrow(RangeError);
    expect(() => parseCpuList("3-1")).toThrow(RangeError);
  });
});
