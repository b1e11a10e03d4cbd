import type { StatusRecord, TaskInfo } from '../index.js';
import { formatDuration, table } from './format.js';

/** A JSON value on one line, shortened for tables. */
export function short(value: unknown, max = 60): string {
  if (value === undefined) return '';
  const s = JSON.stringify(value) ?? String(value);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

/** One task's outcome as a line: `task-0000000007  succeeded  42`. */
export function statusLine(id: string, s: StatusRecord | null): string {
  if (!s) return `${id}  unknown    (status record removed before it could be read)`;
  const detail = s.state === 'succeeded' ? short(s.result) : (s.error?.message ?? '');
  return `${id}  ${s.state.padEnd(9)}  ${detail}${s.attempts > 1 ? `  (${s.attempts} attempts)` : ''}`;
}

/** Tasks as a table: ID, STATE, ATTEMPTS, WORKER, DETAIL (payload, progress, result or error). */
export function tasksTable(tasks: TaskInfo[]): string {
  return table(
    ['ID', 'STATE', 'ATTEMPTS', 'WORKER', 'DETAIL'],
    tasks.map((t) => [t.id, t.state, String(t.status?.attempts ?? t.attempts), t.worker ?? t.status?.worker ?? '', detailOf(t)]),
  );
}

function detailOf(t: TaskInfo): string {
  if (t.status) return t.status.state === 'succeeded' ? `result ${short(t.status.result, 40)}` : (t.status.error?.message ?? '');
  if (t.state === 'delayed' && t.notBefore) return `starts in ${formatDuration(Math.max(0, t.notBefore - Date.now()))}`;
  if (t.progress !== undefined) return `progress ${short(t.progress, 30)}`;
  return short(t.payload, 40);
}

/** A task's details, one `field: value` per line (`corral status`). */
export function taskDetails(t: TaskInfo): string {
  const lines: Array<[string, string]> = [['id', t.id], ['state', t.state]];
  const s = t.status;
  if (t.worker ?? s?.worker) lines.push(['worker', (t.worker ?? s?.worker)!]);
  lines.push(['attempts', String(s?.attempts ?? t.attempts)]);
  if (t.payload !== undefined) lines.push(['payload', short(t.payload, 200)]);
  if (t.progress !== undefined) lines.push(['progress', short(t.progress, 200)]);
  if (t.notBefore) lines.push(['not before', new Date(t.notBefore).toISOString()]);
  if (s) {
    if (s.state === 'succeeded') lines.push(['result', short(s.result, 200)]);
    if (s.error) lines.push(['error', `${s.error.name}: ${s.error.message}`]);
    lines.push(['submitted', new Date(s.submittedAt).toISOString()]);
    lines.push(['finished', new Date(s.finishedAt).toISOString()]);
    lines.push(['took', formatDuration(s.finishedAt - s.submittedAt)]);
  }
  const w = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
