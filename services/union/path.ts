/** @module path — union paths: canonical paths are "/"-joined components without ".", ".." or empty parts ("" is the root). */

/** The canonical path of `components`. */
export function joinPath(components: readonly string[]): string {
  return components.join("/");
}

/** The canonical path of `name` inside the directory at canonical path `dir`. */
export function childPath(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

/** `path` cut at slashes with empty parts removed; `trailingSlash` tells whether it ended with one (after a name). */
export function splitComponents(path: string): { components: string[]; trailingSlash: boolean } {
  const components = path.split("/").filter((part) => part !== "");
  return { components, trailingSlash: components.length > 0 && path.endsWith("/") };
}

/** Whether canonical `inner` is `outer` itself or below it. */
export function isWithin(inner: string, outer: string): boolean {
  return outer === "" || inner === outer || inner.startsWith(`${outer}/`);
}
