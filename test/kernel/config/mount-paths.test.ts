/** @module mount-paths.test — mount point normalization and collisions. */
import { describe, expect, test } from "bun:test";
import { mountsCollide, normalizeBackendPath, normalizeMountPath } from "../../../kernel/config/mount-paths.ts";

describe("mount paths", () => {
  test("normalize", () => {
    expect(normalizeMountPath("/mnt//a/./b/")).toBe("/mnt/a/b");
    expect(normalizeMountPath("/")).toBe("/");
    expect(normalizeBackendPath("/images/x/")).toBe("images/x");
    expect(normalizeBackendPath("")).toBe("");
    expect(normalizeBackendPath(".")).toBe("");
  });

  test("collide when equal or nested, not when siblings share a prefix", () => {
    expect(mountsCollide("/mnt/a", "/mnt/a")).toBe(true);
    expect(mountsCollide("/mnt/a", "/mnt/a/b")).toBe(true);
    expect(mountsCollide("/mnt/a/b", "/mnt/a")).toBe(true);
    expect(mountsCollide("/", "/mnt")).toBe(true);
    expect(mountsCollide("/mnt/a", "/mnt/ab")).toBe(false);
  });
});
