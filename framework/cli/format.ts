import type { Stat } from '../../core/index.js';

/** Stat fields in ZooKeeper's `stat` order, so zkCli users find them where they expect. */
const STAT_FIELDS: Array<keyof Stat> = [
  'czxid', 'mzxid', 'ctime', 'mtime', 'pzxid', 'cversion', 'version', 'aversion', 'ephemeralOwner', 'dataLength', 'numChildren',
];

/**
 * A Stat as zkCli prints it: one `name = value` per line, times as ISO dates.
 * @example formatStat(stat) // "czxid = 12\nmzxid = 14\nctime = 2026-…"
 */
export function formatStat(stat: Stat): string {
  const width = Math.max(...STAT_FIELDS.map((f) => f.length));
  return STAT_FIELDS.map((f) => {
    const v = stat[f];
    const shown = f === 'ctime' || f === 'mtime' ? new Date(v as number).toISOString() : f === 'ephemeralOwner' ? (v ?? 'none') : String(v);
    return `${f.padEnd(width)} = ${shown}`;
  }).join('\n');
}

/** Data for JSON output: UTF-8 text when it is text, base64 otherwise (never a lossy decode). */
export function dataForJson(data: Buffer): { data: string; encoding: 'utf8' | 'base64' } {
  return isText(data) ? { data: data.toString('utf8'), encoding: 'utf8' } : { data: data.toString('base64'), encoding: 'base64' };
}

/** True when the bytes are valid UTF-8 without control characters other than tab/newline/CR. */
export function isText(data: Uint8Array): boolean {
  let s: string;
  try {
    s = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return false;
  }
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s);
}

/** A short one-line preview of znode data for listings (`tree --data`). */
export function preview(data: Buffer, max = 60): string {
  if (data.length === 0) return '';
  if (!isText(data)) return `<${data.length} bytes binary>`;
  const s = data.toString('utf8').replace(/\s+/g, ' ');
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/** Milliseconds as a human duration: `850 ms`, `4.2 s`, `3 min 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m} min ${String(s).padStart(2, '0')} s`;
}

/** Left-aligned columns for tabular listings (`tasks`, `workers`). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
