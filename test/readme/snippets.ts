import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';

/**
 * Helpers of test/readme/snippets.test.ts: find the ```ts blocks of a README section,
 * turn each into a file that imports the sources instead of the package, type-check them
 * all with tsc, and run each with tsx.
 */

/** A ```ts block of README.md. */
export interface Snippet {
  /** The section's heading, as written in README.md. */
  section: string;
  /** Line of README.md where the code starts (the line after the fence), from 1. */
  line: number;
  code: string;
  /** The ```text block right after it (after an `Output:` line), if any: the expected stdout. */
  output?: string;
}

/** The package's entry points, and the sources they stand for (relative to the repository root). */
export const ENTRY_POINTS: Record<string, string> = {
  corral: 'core/index.js',
  'corral/core': 'core/index.js',
  'corral/recipes': 'recipes/index.js',
  'corral/framework': 'framework/index.js',
};

/**
 * The text of the section under `heading` (a whole `## …` line), up to the next `## `
 * heading, and the README line its first line is on.
 */
export function section(md: string, heading: string): { text: string; firstLine: number } {
  const lines = md.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`README.md has no heading "${heading}"`);
  let end = start + 1;
  while (end < lines.length && !lines[end].startsWith('## ')) end++;
  return { text: lines.slice(start, end).join('\n'), firstLine: start + 1 };
}

/**
 * Every fenced block of a section, in order, with its language and the line its content
 * starts on. Fences are ``` at the start of a line; blocks do not nest.
 */
export function fences(text: string, firstLine: number): Array<{ lang: string; line: number; body: string; end: number }> {
  const lines = text.split('\n');
  const out: Array<{ lang: string; line: number; body: string; end: number }> = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    let j = i + 1;
    while (j < lines.length && lines[j] !== '```') j++;
    if (j >= lines.length) throw new Error(`README.md line ${firstLine + i}: a code block is never closed`);
    out.push({ lang: open[1], line: firstLine + i + 1, body: lines.slice(i + 1, j).join('\n'), end: firstLine + j });
    i = j;
  }
  return out;
}

/**
 * The ```ts blocks of a section. A ```ts block followed by a line `Output:` and a ```text
 * block expects exactly that on stdout.
 */
export function snippets(md: string, heading: string): Snippet[] {
  const { text, firstLine } = section(md, heading);
  const blocks = fences(text, firstLine);
  const lines = md.split('\n');
  const out: Snippet[] = [];
  blocks.forEach((b, i) => {
    if (b.lang !== 'ts') return;
    const s: Snippet = { section: heading, line: b.line, code: b.body };
    const next = blocks[i + 1];
    if (next && next.lang === 'text') {
      // Only blank lines and one `Output:` line between the two blocks.
      const between = lines.slice(b.end, next.line - 2).map((l) => l.trim()).filter((l) => l !== '');
      if (between.length === 1 && between[0] === 'Output:') s.output = next.body;
    }
    out.push(s);
  });
  return out;
}

/**
 * The snippet as a file in `dir` (a folder inside the repository): `corral…` imports point
 * at the sources. Lines keep their numbers, so a tsc error's line maps back to README.md.
 */
export function runnable(code: string, root: string, dir: string): string {
  return code.replace(/(from\s+|import\s*\(\s*)(['"])(corral(?:\/[^'"]*)?)\2/g, (all, kw: string, q: string, spec: string) => {
    const target = ENTRY_POINTS[spec];
    if (!target) throw new Error(`import of ${spec}: not an entry point of the package (${Object.keys(ENTRY_POINTS).join(', ')})`);
    let rel = relative(dir, join(root, target)).split('\\').join('/');
    if (!rel.startsWith('.')) rel = './' + rel;
    return `${kw}${q}${rel}${q}`;
  });
}

export interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/**
 * Runs a .ts file with tsx (from the repository root), killing it after `timeoutMs`. As
 * `node --import tsx`, one process: the `tsx` command runs the file in a child of its own,
 * which outlived the SIGKILL of the timeout (every test run left a `hangs.ts` running).
 */
export function runTs(root: string, file: string, timeoutMs: number): Promise<Run> {
  const t0 = performance.now();
  const env = { ...process.env };
  delete env.CORRAL_LOG_LEVEL; // the default level (warn): a warning is a failure too
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: timeoutMs, killSignal: 'SIGKILL', env }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: string; killed?: boolean }) | null;
      done({
        code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        signal: e?.signal ?? null,
        stdout,
        stderr,
        ms: Math.round(performance.now() - t0),
        timedOut: e?.killed === true,
      });
    });
  });
}

/** What is wrong with a run, or null if it exited 0, wrote nothing on stderr and printed what was expected. */
export function failure(run: Run, expected?: string): string | null {
  if (run.timedOut) return `did not exit on its own (killed after ${run.ms} ms)`;
  if (run.code !== 0) return `exited with ${run.code ?? run.signal}${run.stderr ? `:\n${run.stderr}` : ''}`;
  if (run.stderr !== '') return `wrote to stderr:\n${run.stderr}`;
  if (expected !== undefined && run.stdout.trimEnd() !== expected.trimEnd()) {
    return `printed\n${run.stdout.trimEnd()}\ninstead of\n${expected.trimEnd()}`;
  }
  return null;
}

/**
 * Type-checks the .ts files of `dir` against the repository's compiler options. Returns
 * tsc's diagnostics per file name (empty when everything checks).
 */
export async function typecheck(root: string, dir: string): Promise<Map<string, string[]>> {
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
    extends: relative(dir, join(root, 'tsconfig.json')).split('\\').join('/'),
    include: ['*.ts'],
  }));
  const output = await new Promise<string>((done) => {
    execFile(join(root, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json'), '--noEmit', '--pretty', 'false'], { cwd: root, timeout: 240_000 },
      (_err, stdout, stderr) => done(stdout + stderr));
  });
  const out = new Map<string, string[]>();
  for (const l of output.split('\n')) {
    if (l.trim() === '') continue;
    const m = /^(.*?\.ts)\((\d+),(\d+)\): (.*)$/.exec(l);
    const file = m ? relative(dir, resolve(root, m[1])) : '(tsc)';
    const list = out.get(file) ?? [];
    list.push(m ? `${m[2]}:${m[3]} ${m[4]}` : l);
    out.set(file, list);
  }
  return out;
}
