/** @module mount-paths — normalizing mount points and backend paths, and telling whether two mount points collide. */
import { posix } from "node:path";

/** Normalizes an absolute mount point: no `.`, no doubled or trailing slashes ("/mnt//a/" → "/mnt/a"). */
export function normalizeMountPath(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith("/") ? normal.slice(0, -1) : normal;
}

/** Normalizes a path inside a backend root to its relative form ("/images/x/" → "images/x"; the root itself is ""). */
export function normalizeBackendPath(path: string): string {
  const normal = posix.normalize(`/${path}`);
  return normal.replace(/^\/+/, "").replace(/\/+$/, "");
}

/** True when two normalized mount points are equal or one is nested inside the other. */
export function mountsCollide(a: string, b: string): boolean {
  return a === b || isInside(a, b) || isInside(b, a);
}

function isInside(inner: string, outer: string): boolean {
  return outer === "/" || inner.startsWith(`${outer}/`);
}
