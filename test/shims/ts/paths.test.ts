/** Tests of client-side path normalisation and mount lookup. */
import { describe, expect, test } from "bun:test";
import { findMount, normalizePath } from "../../../shims/ts/paths.ts";

describe("normalizePath", () => {
  test("resolves relative paths against the cwd, '.', '..' and repeated slashes", () => {
    expect(normalizePath("/mnt/a", "b//c/./d")).toBe("/mnt/a/b/c/d");
    expect(normalizePath("/mnt/a", "../b")).toBe("/mnt/b");
    expect(normalizePath("/x", "/mnt//a/../a/f")).toBe("/mnt/a/f");
    expect(normalizePath("/", "")).toBe("/");
  });
  test("never climbs above the root", () => {
    expect(normalizePath("/mnt", "../../../../etc/passwd")).toBe("/etc/passwd");
  });
});

describe("findMount", () => {
  const d = { path: "/mnt/d", id: 0 };
  const inner = { path: "/mnt/d/inner", id: 1 };
  const data = { path: "/data/", id: 2 };
  const mounts = [d, inner, data];
  test("the longest mount point holding the path wins; inner path starts with /", () => {
    expect(findMount(mounts, "/mnt/d/x/y")).toEqual({ mount: d, inner: "/x/y" });
    expect(findMount(mounts, "/mnt/d/inner/z")).toEqual({ mount: inner, inner: "/z" });
    expect(findMount(mounts, "/mnt/d")).toEqual({ mount: d, inner: "/" });
    expect(findMount(mounts, "/data/q")).toEqual({ mount: data, inner: "/q" });
  });
  test("a name that only shares a prefix is not inside, and outside paths find nothing", () => {
    expect(findMount(mounts, "/mnt/dd/x")).toBeNull();
    expect(findMount(mounts, "/etc/passwd")).toBeNull();
  });
});
