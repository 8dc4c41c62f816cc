/** @module stats — medians and percentiles for benchmark tables. */

/** The q-quantile (0..1) of `values` by nearest rank; NaN for an empty list. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Median, p99 and count of a sample, rounded to 0.01. */
export function summary(values: number[]): { median: number; p99: number; n: number } {
  const round = (x: number) => Math.round(x * 100) / 100;
  return { median: round(quantile(values, 0.5)), p99: round(quantile(values, 0.99)), n: values.length };
}

/** Prints rows as an aligned table. */
export function printTable(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  for (const row of cells) process.stdout.write(row.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd() + "\n");
}
