import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from './exit-codes.js';
import type { Io } from './io.js';
import { readAll } from './commands/data-arg.js';

/** One task to submit: its payload and, from an envelope line, its own options. */
export interface TaskInput {
  payload: unknown;
  options?: Record<string, unknown>;
}

/**
 * Parses tasks given as JSON lines (a file or stdin). Each non-blank line is one task's
 * payload; with `envelope`, each line is `{"payload": …, "options": {…}}`. A bad line is
 * reported with its number and nothing is submitted.
 *
 * @example parseTaskLines('{"n":1}\n{"n":2}\n', 'stdin', false) // [{ payload: { n: 1 } }, { payload: { n: 2 } }]
 */
export function parseTaskLines(text: string, source: string, envelope: boolean): TaskInput[] {
  const tasks: TaskInput[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const value = parseJson(line, `${source} line ${i + 1}`);
    tasks.push(envelope ? fromEnvelope(value, `${source} line ${i + 1}`) : { payload: value });
  });
  return tasks;
}

/** Parses one task given on the command line. */
export function parseTaskArg(text: string, envelope: boolean): TaskInput {
  const value = parseJson(text, 'the task argument');
  return envelope ? fromEnvelope(value, 'the task argument') : { payload: value };
}

/** Reads tasks from a file path, or stdin for `-`. */
export async function readTaskFile(io: Io, file: string, envelope: boolean): Promise<TaskInput[]> {
  if (file === '-') return parseTaskLines((await readAll(io.stdin)).toString('utf8'), 'stdin', envelope);
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, file), 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read task file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return parseTaskLines(text, file, envelope);
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`bad task JSON in ${where}: ${(err as Error).message}`);
  }
}

function fromEnvelope(value: unknown, where: string): TaskInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('payload' in value)) {
    throw new UsageError(`bad task in ${where}: with --envelope each task is {"payload": …, "options": {…}}`);
  }
  const v = value as { payload: unknown; options?: unknown };
  for (const k of Object.keys(v)) if (k !== 'payload' && k !== 'options') throw new UsageError(`bad task in ${where}: unknown field "${k}" (expected payload, options)`);
  if (v.options !== undefined && (typeof v.options !== 'object' || v.options === null || Array.isArray(v.options))) {
    throw new UsageError(`bad task in ${where}: "options" must be an object`);
  }
  return { payload: v.payload, ...(v.options ? { options: v.options as Record<string, unknown> } : {}) };
}
