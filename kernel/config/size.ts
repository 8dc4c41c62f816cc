/** @module size — byte sizes written as "512MiB", "2GiB", "1.5GB" or a plain number of bytes. */

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12,
  K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4,
  KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3, TIB: 1024 ** 4,
};

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/;

/** Parses a size; returns the number of bytes (an integer), or null when the text is not a size. */
export function parseSize(input: string | number): number | null {
  if (typeof input === "number") return Number.isSafeInteger(input) && input >= 0 ? input : null;
  const match = SIZE.exec(input);
  if (!match) return null;
  const unit = UNITS[(match[2] || "B").toUpperCase()];
  if (unit === undefined) return null;
  const bytes = Math.floor(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** Formats bytes with the largest binary unit that keeps the number whole when possible ("512MiB"). */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [["TiB", 1024 ** 4], ["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  for (const [unit, factor] of [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) {
    if (bytes >= factor) return `${(bytes / factor).toFixed(1)}${unit}`;
  }
  return `${bytes}B`;
}
