import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const example = 'examples/quickstart.ts';

/** The first ```ts block of README.md: the first client example. */
async function readmeExample(): Promise<string> {
  const md = await readFile(`${root}README.md`, 'utf8');
  const m = /```ts\n([\s\S]*?)```/.exec(md);
  if (!m) throw new Error('no ```ts block in README.md');
  return m[1];
}

/** The example's code without comments and blank lines, imports normalised to the package name. */
function code(src: string): string {
  return src
    .split('\n')
    .map((l) => l.replace(/\s*\/\/.*$/, '').trimEnd())
    .filter((l) => l.trim() !== '')
    .join('\n')
    .replace(/from '\.\.\/core\/index\.js'/g, "from 'corral'");
}

describe('README quickstart', () => {
  it('the README shows the same code as examples/quickstart.ts', async () => {
    const file = await readFile(root + example, 'utf8');
    expect(code(await readmeExample())).toBe(code(file));
  });

  it('running it shows a znode, a watch event and the ephemeral vanishing at session close', async () => {
    const { stdout, stderr } = await promisify(execFile)(`${root}node_modules/.bin/tsx`, [example], {
      cwd: root,
      timeout: 30_000,
      env: { ...process.env, CORRAL_LOG_LEVEL: 'warn' },
    });
    expect(stderr).toBe('');
    const lines = stdout.trim().split('\n');
    expect(lines).toEqual([
      'znode /app = "config v1" (version 0)',
      'watch: dataChanged /app',
      'znode /app = "config v2"',
      "children of /app: [ 'worker-1' ]",
      'watch: deleted /app/worker-1',
      'children of /app after the worker closed: []',
    ]);
  });
});
