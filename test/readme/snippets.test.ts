import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, fences, runTs, runnable, section, snippets, typecheck, type Snippet } from './snippets.js';

// Every ```ts block of the README's recipes and framework sections is a whole program:
// it is type-checked (tsc, the repository's options) and run (tsx, the embedded memory
// backend), and must exit 0 on its own with nothing on stderr. A block followed by
// `Output:` and a ```text block must print exactly that. Imports of `corral`,
// `corral/recipes` and `corral/framework` are pointed at the sources.

const root = fileURLToPath(new URL('../../', import.meta.url));
const SECTIONS = ['## Recipes (`corral/recipes`)', '## Master–worker framework (`corral/framework`)'];
/**
 * Per example. Generous on purpose: today Worker.close() leaves the drainTimeoutMs timer of
 * drain() armed (framework/worker.ts), which keeps a process with a worker alive for 30 s
 * after everything has closed. Once that timer is cleared, every example takes ~1–2 s.
 */
const RUN_TIMEOUT_MS = 60_000;

const md = readFileSync(join(root, 'README.md'), 'utf8');
const all: Snippet[] = SECTIONS.flatMap((h) => snippets(md, h));

let dir = '';
let diagnostics = new Map<string, string[]>();
const fileOf = (s: Snippet) => `L${s.line}.ts`;

/** Deliberately broken examples: the checks below must catch each one. */
const BROKEN: Record<string, string> = {
  'bad-option.ts': [
    "import { connect } from 'corral';",
    "import { Mutex } from 'corral/recipes';",
    'const zk = await connect();',
    "const m = new Mutex(zk, '/locks/x', { reentrnt: true });",
    'await m.withLock(() => undefined);',
    'await zk.close();',
  ].join('\n'),
  'bad-name.ts': [
    "import { connect } from 'corral';",
    "import { Mutx } from 'corral/recipes';",
    'const zk = await connect();',
    "await new Mutx(zk, '/locks/x').withLock(() => undefined);",
    'await zk.close();',
  ].join('\n'),
  'throws.ts': "import { connect } from 'corral';\nconst zk = await connect();\nawait zk.getData('/missing');\nawait zk.close();",
  'stderr.ts': "console.error('something went wrong');",
  'prints.ts': "console.log('two');",
  'hangs.ts': 'setInterval(() => undefined, 1000);',
};

beforeAll(async () => {
  dir = await mkdtemp(join(root, '.readme-snippets-'));
  for (const s of all) await writeFile(join(dir, fileOf(s)), runnable(s.code, root, dir));
  for (const [name, code] of Object.entries(BROKEN)) await writeFile(join(dir, name), runnable(code, root, dir));
  diagnostics = await typecheck(root, dir);
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('README: recipes and framework sections', () => {
  it.each(SECTIONS)('%s is written, and its code blocks are ```ts examples or marked as something else', (heading) => {
    const { text, firstLine } = section(md, heading);
    expect(text).not.toMatch(/^\(being written\)$/m);
    const blocks = fences(text, firstLine);
    // An unlabelled or mislabelled TypeScript block would silently escape the checks below.
    expect(blocks.filter((b) => ['', 'typescript', 'tsx', 'mts'].includes(b.lang)).map((b) => `line ${b.line}`)).toEqual([]);
    expect(blocks.filter((b) => b.lang === 'ts').length).toBeGreaterThanOrEqual(5);
  });

  it('every example type-checks', () => {
    const errors: string[] = [];
    for (const s of all) {
      for (const d of diagnostics.get(fileOf(s)) ?? []) {
        const [row] = d.split(':');
        errors.push(`README.md line ${s.line + Number(row) - 1}: ${d.slice(d.indexOf(' ') + 1)}`);
      }
    }
    for (const [file, list] of diagnostics) {
      if (!file.startsWith('L') && !(file in BROKEN)) errors.push(...list.map((d) => `${file}: ${d}`));
    }
    expect(errors).toEqual([]);
  });

  it.concurrent.each(all.map((s) => ({ ...s, at: `README.md line ${s.line}` })))('runs the example at $at', async (s) => {
    const run = await runTs(root, join(dir, fileOf(s)), RUN_TIMEOUT_MS);
    expect(failure(run, s.output), `example at README.md line ${s.line}`).toBeNull();
  }, RUN_TIMEOUT_MS + 30_000);
});

describe('the README check itself catches broken examples', () => {
  it('a misspelt option or name fails the type check', () => {
    expect(diagnostics.get('bad-option.ts')?.join('\n')).toMatch(/reentrnt/);
    expect(diagnostics.get('bad-name.ts')?.join('\n')).toMatch(/Mutx/);
  });

  it('a throw, a write to stderr, unexpected output and a hang each fail the run', async () => {
    const [threw, stderr, prints, hangs] = await Promise.all([
      runTs(root, join(dir, 'throws.ts'), RUN_TIMEOUT_MS),
      runTs(root, join(dir, 'stderr.ts'), RUN_TIMEOUT_MS),
      runTs(root, join(dir, 'prints.ts'), RUN_TIMEOUT_MS),
      runTs(root, join(dir, 'hangs.ts'), 3000),
    ]);
    expect(failure(threw)).toMatch(/^exited with 1[\s\S]*NoNodeError/);
    expect(failure(stderr)).toMatch(/^wrote to stderr/);
    expect(failure(prints, 'one')).toMatch(/^printed\ntwo\ninstead of\none/);
    expect(failure(prints, 'two')).toBeNull();
    expect(failure(hangs)).toMatch(/^did not exit on its own/);
  }, RUN_TIMEOUT_MS + 30_000);

  it('an import of something the package does not export is refused', () => {
    expect(() => runnable("import { x } from 'corral/internal';", root, dir)).toThrow(/not an entry point/);
  });
});
