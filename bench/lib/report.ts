/** Plain-text tables and ratios for the benchmark output (no dependency: it goes to a terminal and to docs). */

export function fmtNum(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function fmtMs(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n < 10 ? `${n.toFixed(2)} ms` : n < 100 ? `${n.toFixed(1)} ms` : `${n.toFixed(0)} ms`;
}

export function fmtRatio(n: number): string {
  return Number.isFinite(n) ? `${n.toFixed(2)}×` : 'n/a';
}

/** Prints rows as an aligned table with a header: the first `left` columns (default 1) flush left, the rest (figures) flush right. */
export function table(header: string[], rows: string[][], left = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** `met` / `MISSED by x%` against a target ratio (higher is better). */
export function verdict(ratio: number, target: number): string {
  if (!Number.isFinite(ratio)) return 'n/a';
  return ratio >= target ? `met (≥ ${target}×)` : `MISSED (≥ ${target}×, short by ${(((target - ratio) / target) * 100).toFixed(0)}%)`;
}

export function banner(title: string): void {
  console.log(`\n=== ${title} ===`);
}

/** Seconds from the environment (BENCH_SECONDS), for shorter or longer runs. */
export function benchSeconds(fallback: number): number {
  const v = Number(process.env.BENCH_SECONDS);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
