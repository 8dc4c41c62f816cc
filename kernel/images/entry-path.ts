/** @module entry-path — an archive or tree entry's path made relative to its layer, refusing any that would leave it. */

/**
 * Normalizes an entry path to its form inside the layer: no leading "/" or "./", no "." parts, no doubled or
 * trailing slashes ("./usr//bin/" → "usr/bin"; "." and "/" → "", the layer itself).
 * Returns null when a ".." part would climb out of the layer (such an entry is refused, never clamped).
 */
export function layerPath(path: string): string | null {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") return null;
    parts.push(part);
  }
  return parts.join("/");
}
