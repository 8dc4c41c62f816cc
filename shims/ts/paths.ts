/** @module paths — client-side path handling: normalising against a cwd, and finding the mount a path belongs to. */

/** Normalises `path` against `cwd` (absolute): resolves "." and "..", collapses repeated slashes. Never climbs above "/". */
export function normalizePath(cwd: string, path: string): string {
  const parts: string[] = [];
  for (const part of (path.startsWith("/") ? path : `${cwd}/${path}`).split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return "/" + parts.join("/");
}

/** Where a normalised absolute path falls: the mount (longest matching mount point) and the path inside it. */
export interface MountedPath<M> {
  readonly mount: M;
  /** Path relative to the mount point, starting with "/" ("/" is the mount point itself). */
  readonly inner: string;
}

/** The mount holding `absolute` (the longest mount point that is it or one of its parents), or null when none does. */
export function findMount<M extends { path: string }>(mounts: readonly M[], absolute: string): MountedPath<M> | null {
  let best: M | null = null;
  for (const mount of mounts) {
    const point = mount.path === "/" ? "/" : mount.path.replace(/\/+$/, "");
    const inside = absolute === point || point === "/" || absolute.startsWith(point + "/");
    if (inside && (best === null || point.length > best.path.length)) best = mount;
  }
  if (best === null) return null;
  const point = best.path.replace(/\/+$/, "");
  return { mount: best, inner: absolute.slice(point.length) || "/" };
}
